import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvField, parseCsv, toCsv } from './csv';
import { LABELS_HEADER, exportLabelsCsv, labelStatus, toggleLabel, zeroVector, type AnnotationRecord, type LabelVector } from './labels';
import { ODD_NAMES, oddNameRecords } from './fixtures/records';

// vitest runs from the repository root (jsdom has no file: import.meta.url)
const fixture = (name: string) => readFileSync(join(process.cwd(), 'src/services/annotations/fixtures', name), 'utf8');

describe('tick rules (healthy = 1 ⇔ no lesion, enforced)', () => {
  it('healthy clears lesions, a lesion clears healthy, the last tick off leaves "incomplete"', () => {
    let v: LabelVector = toggleLabel(null, 'ma');
    expect(v).toEqual({ ma: 1, hm: 0, hex: 0, cws: 0, healthy: 0 });
    v = toggleLabel(v, 'hex');
    expect(labelStatus(v)).toBe('complete');
    v = toggleLabel(v, 'healthy');
    expect(v).toEqual({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 });
    v = toggleLabel(v, 'cws');
    expect(v).toEqual({ ma: 0, hm: 0, hex: 0, cws: 1, healthy: 0 });
    v = toggleLabel(v, 'cws');
    expect(v).toEqual(zeroVector());
    expect(labelStatus(v)).toBe('incomplete');
    expect(labelStatus(null)).toBe('unlabelled');
    expect(labelStatus({ ma: 1, hm: 0, hex: 0, cws: 0, healthy: 1 })).toBe('inconsistent');
    // no sequence of toggles reaches an inconsistent vector
    const ids = ['ma', 'hm', 'hex', 'cws', 'healthy'] as const;
    let w: LabelVector | null = null;
    let seed = 3;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      w = toggleLabel(w, ids[seed % 5]);
      expect(labelStatus(w)).not.toBe('inconsistent');
    }
  });
});

describe('CSV escaping of odd file names', () => {
  it('quotes only what needs it and parses back to the same strings', () => {
    expect(csvField('plain.jpg')).toBe('plain.jpg');
    expect(csvField('a,b.jpg')).toBe('"a,b.jpg"');
    expect(csvField('say "hi".jpg')).toBe('"say ""hi"".jpg"');
    expect(csvField(' lead.jpg')).toBe('" lead.jpg"');
    expect(csvField('视网膜 1.jpg')).toBe('视网膜 1.jpg');
    const text = toCsv(['image', 'x'], ODD_NAMES.map((n, i) => [n, i]));
    const back = parseCsv(text);
    expect(back.map((r) => r.fields[0])).toEqual(['image', ...ODD_NAMES]);
    expect(back.every((r) => r.fields.length === 2)).toBe(true);
  });
});

describe('labels.csv export', () => {
  it('writes the training format + annotator, timestamps, seconds, suggestion; skips unfinished photos', () => {
    const recs: AnnotationRecord[] = [
      { id: 's/0', sessionId: 's', image: 'a.jpg', labels: { ma: 1, hm: 0, hex: 1, cws: 0, healthy: 0 }, firstAt: Date.UTC(2026, 0, 2, 3, 4, 5), updatedAt: Date.UTC(2026, 0, 2, 3, 4, 9), ms: 4200 },
      { id: 's/1', sessionId: 's', image: 'b.jpg', labels: null, ms: 100 },
      { id: 's/2', sessionId: 's', image: 'c.jpg', labels: zeroVector(), ms: 100 },
      {
        id: 's/3',
        sessionId: 's',
        image: 'd.jpg',
        labels: { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 },
        suggestion: { positive: { ma: false, hm: false, hex: false, cws: false, healthy: true }, probabilities: { ma: 0.1, hm: 0.1, hex: 0.1, cws: 0.1, healthy: 0.9 }, model: 'm@1' },
        ms: 1000,
      },
      { id: 's/4', sessionId: 's', image: 'a.jpg', labels: { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 }, ms: 5 },
      { id: 's/5', sessionId: 's', image: ' lead.jpg', labels: { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 }, ms: 5 },
    ];
    const r = exportLabelsCsv(recs, 'Dr. Lee, MD');
    expect(r.rows).toBe(2);
    expect(r.skipped).toEqual([
      { image: 'b.jpg', reason: 'unlabelled' },
      { image: 'c.jpg', reason: 'incomplete' },
      { image: 'a.jpg', reason: 'duplicate' },
      { image: ' lead.jpg', reason: 'edge-space' },
    ]);
    const rows = parseCsv(r.csv).map((x) => x.fields);
    expect(rows[0]).toEqual([...LABELS_HEADER]);
    expect(rows[0].slice(0, 6)).toEqual(['image', 'ma', 'hm', 'hex', 'cws', 'healthy']);
    expect(rows[1]).toEqual(['a.jpg', '1', '0', '1', '0', '0', '1', 'Dr. Lee, MD', '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:09.000Z', '4.2', '', '']);
    expect(rows[2]).toEqual(['d.jpg', '0', '0', '0', '0', '1', '1', 'Dr. Lee, MD', '', '', '1.0', 'none', '1']);
  });

  it('ungradable photos are exported with gradable=0: with their ticks, or with unknown labels', () => {
    const recs: AnnotationRecord[] = [
      { id: 's/0', sessionId: 's', image: 'dark.jpg', labels: null, ungradable: true, ms: 1 },
      { id: 's/1', sessionId: 's', image: 'blur.jpg', labels: { ma: 0, hm: 1, hex: 0, cws: 0, healthy: 0 }, ungradable: true, ms: 1 },
      { id: 's/2', sessionId: 's', image: 'none.jpg', labels: zeroVector(), ungradable: true, ms: 1 },
    ];
    const rows = parseCsv(exportLabelsCsv(recs, 'A').csv).map((x) => x.fields.slice(0, 7));
    expect(rows.slice(1)).toEqual([
      ['dark.jpg', '', '', '', '', '', '0'],
      ['blur.jpg', '0', '1', '0', '0', '0', '0'],
      ['none.jpg', '', '', '', '', '', '0'],
    ]);
  });

  it('odd file names: the exporter writes exactly the golden file the training test reads', () => {
    const r = exportLabelsCsv(oddNameRecords(), 'Ана Müller, "AM"');
    expect(r.skipped).toEqual([]);
    expect(r.csv).toBe(fixture('odd-names.labels.csv'));
    const rows = parseCsv(r.csv).map((x) => x.fields[0]);
    expect(rows.slice(1)).toEqual(ODD_NAMES);
  });
});
