import { beforeAll, describe, expect, it } from 'vitest';
import i18next from 'i18next';
import { initI18n } from '../../i18n';
import type { ExamRecord, FullRecord } from '../records/types';
import { clinicianReportPdf } from './pdf';
import { patientHtml, patientSheet } from './patient';
import { examRecord } from '../test-fixtures';

/** Haemorrhages (hm) positive, left eye, an id that needs HTML escaping, demo@2.1.0 on wasm. */
function rec(p: Partial<ExamRecord> = {}): ExamRecord {
  return examRecord(
    { patientId: 'PX-<b>&1', eye: 'OS', revision: 1, ...p },
    {
      probabilities: { ma: 0.1, hm: 0.72, hex: 0.05, cws: 0.02, healthy: 0.2 },
      positive: { ma: false, hm: true, hex: false, cws: false, healthy: false },
      outlines: [],
      backend: 'wasm',
      model: 'demo@2.1.0',
      modelVersion: '2.1.0',
      labels: [
        { id: 'ma', name: 'BP/MA', plainName: 'small spots of bleeding', colour: '#f0f', threshold: 0.5 },
        { id: 'hm', name: 'HM', plainName: 'bleeding', colour: '#f00', threshold: 0.45 },
        { id: 'healthy', name: 'Healthy', plainName: 'no signs found', colour: null, threshold: 0.5 },
      ],
    },
  );
}
const full = (r: ExamRecord): FullRecord => ({ record: r, photo: new Blob([new Uint8Array([1, 2, 3])], { type: 'image/jpeg' }), thumbnail: null });

beforeAll(() => {
  initI18n('en');
});

describe('patient sheet', () => {
  it('speaks plainly in each language: what was found (plain names) and what to do next', () => {
    const en = patientSheet(rec(), i18next.getFixedT('en'), 'en');
    expect(en.findings).toEqual(['bleeding']); // metadata plainName in English
    expect(en.next).toMatch(/appointment with an eye doctor/);
    expect(en.intro).toContain('left eye');
    const zh = patientSheet(rec(), i18next.getFixedT('zh'), 'zh');
    expect(zh.findings).toEqual(['小片出血']);
    expect(zh.title).toBe('您的眼部检查结果');
    expect(zh.intro).toContain('左眼');
    const es = patientSheet(rec(), i18next.getFixedT('es'), 'es');
    expect(es.findings).toEqual(['pequeñas manchas de sangre']);
    expect(es.next).toMatch(/oftalmólogo/);
    // a clinician override to "no lesion" turns the advice into routine rescreening
    const reviewed = rec({ review: { reviewer: 'Dr', reviewedAt: '2026-11-21T00:00:00Z', overrides: { hm: false } } });
    const s = patientSheet(reviewed, i18next.getFixedT('en'), 'en');
    expect(s.findings).toEqual([]);
    expect(s.next).toMatch(/12 months/);
  });

  it('the shareable HTML escapes the patient id, carries the language, and has no script or external URL', async () => {
    const html = await patientHtml(full(rec()), i18next.getFixedT('zh'), 'zh');
    expect(html).toContain('<html lang="zh">');
    expect(html).toContain('PX-&lt;b&gt;&amp;1');
    expect(html).not.toContain('PX-<b>');
    expect(html).not.toMatch(/<script|https?:\/\//);
    expect(html).toContain('这是一项筛查，不是诊断。');
  });
});

describe('clinician PDF', () => {
  it('names the patient, the eye, each label with probability and threshold, the action, the model and the disclaimer', async () => {
    const blob = await clinicianReportPdf(full(rec({ patientId: 'PDF-77' })), i18next.getFixedT('en'), new Date('2026-11-26T08:00:00Z'));
    const text = new TextDecoder('latin1').decode(await blob.arrayBuffer());
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text).toContain('(PDF-77)');
    expect(text).toContain('(Left eye \\(OS\\))');
    expect(text).toContain('(72%)');
    expect(text).toContain('(45%)');
    expect(text).toContain('(Suggested action: Refer to an eye specialist)');
    expect(text).toContain('(demo 2.1.0 \\(wasm\\))');
    expect(text).toContain('Screening aid, not a diagnosis.');
  });

  it('names the explanation map the outlines were traced on: HiResCAM when the record says so, Grad-CAM for records saved before', async () => {
    const pdfText = async (r: ExamRecord) => new TextDecoder('latin1').decode(await (await clinicianReportPdf(full(r), i18next.getFixedT('en'), new Date('2026-11-26T08:00:00Z'))).arrayBuffer());
    const hires = await pdfText(rec({ analysis: { ...rec().analysis!, camMethod: 'hirescam' } }));
    expect(hires).toContain('(Explanation map \\(outlines\\))');
    expect(hires).toContain('(HiResCAM)');
    const old = await pdfText(rec());
    expect(rec().analysis?.camMethod).toBeUndefined();
    expect(old).toContain('(Grad-CAM)');
    expect(old).not.toContain('HiResCAM');
  });
});

