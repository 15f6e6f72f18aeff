import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openRecordStore, newRecordId, storageError } from './db';
import { exportRecords, parseExport, exportFileName } from './export';
import { effectiveSummary, recordCam, suggestedAction, toRecordAnalysis, type ExamRecord, type FullRecord } from './types';
import { analysisResult } from '../test-fixtures';
import { parseCsv, recordsCsv, csvCell } from '../csv';
import { examRecord } from '../test-fixtures';

let dbn = 0;
const freshDb = () => openRecordStore(`test-records-${dbn++}`);

function rec(p: Partial<ExamRecord> = {}): ExamRecord {
  const now = new Date().toISOString();
  return examRecord({ id: newRecordId(), createdAt: now, updatedAt: now, ...p });
}
const bytes = (...b: number[]) => new Blob([new Uint8Array(b)], { type: 'image/jpeg' });
const full = (r: ExamRecord, photo = bytes(1, 2, 3)): FullRecord => ({ record: r, photo, thumbnail: bytes(9) });
const arr = async (b: Blob) => [...new Uint8Array(await b.arrayBuffer())];

describe('record store (IndexedDB)', () => {
  it('saves record + photo, lists and reloads them after reopening the database', async () => {
    const name = `test-records-${dbn++}`;
    const db = await openRecordStore(name);
    const r = rec();
    const saved = await db.save(full(r));
    expect(saved.revision).toBe(1);
    db.close();
    const db2 = await openRecordStore(name);
    const back = await db2.get(r.id);
    expect(back?.record.patientId).toBe('P-001');
    expect(back?.record.analysis?.outlines[0].points).toEqual([[1, 1], [3, 1], [3, 3]]);
    expect(await arr(back!.photo)).toEqual([1, 2, 3]);
    expect(back!.photo.type).toBe('image/jpeg');
    expect(await arr((await db2.thumbnail(r.id))!)).toEqual([9]);
    expect((await db2.list()).map((x) => x.id)).toEqual([r.id]);
    db2.close();
  });

  it('an interrupted save (transaction aborted after the record write, before the photo) leaves the old record and photo intact', async () => {
    const db = await freshDb();
    const r = rec({ notes: 'old' });
    await db.save(full(r, bytes(1, 1)));
    const attempt = db.save(full({ ...r, notes: 'new' }, bytes(2, 2)), { afterRecordPut: (tx) => tx.abort() });
    await expect(attempt).rejects.toMatchObject({ name: 'FundusLensError', code: 'storage-failed' });
    const back = await db.get(r.id);
    expect(back?.record.notes).toBe('old');
    expect(back?.record.revision).toBe(1);
    expect(await arr(back!.photo)).toEqual([1, 1]);
    // and a brand-new record whose save is interrupted leaves nothing behind
    const n = rec({ patientId: 'P-NEW' });
    await expect(db.save(full(n), { afterRecordPut: (tx) => tx.abort() })).rejects.toThrow();
    expect(await db.getRecord(n.id)).toBeUndefined();
    expect(await db.thumbnail(n.id)).toBeNull();
    db.close();
  });

  it('a second save bumps the revision and keeps createdAt', async () => {
    const db = await freshDb();
    const r = rec();
    const a = await db.save(full(r));
    const b = await db.save(full({ ...a, notes: 'edited' }));
    expect(b.revision).toBe(2);
    expect(b.createdAt).toBe(a.createdAt);
    expect((await db.getRecord(r.id))?.notes).toBe('edited');
    db.close();
  });

  it('filters by patient, date range, eye and (reviewed) result; newest capture first', async () => {
    const db = await freshDb();
    const a = rec({ patientId: 'Ana García', captureDate: '2026-01-10' });
    const b = rec({ patientId: 'ana garcía', eye: 'OS', captureDate: '2026-03-01' });
    const c = rec({ patientId: '王伟', captureDate: '2026-02-01', analysis: null });
    const d = rec({ patientId: 'Zed', captureDate: '2026-02-15', review: { reviewer: 'Dr K', reviewedAt: '2026-02-16T00:00:00Z', overrides: { ma: false } } });
    await db.saveMany([a, b, c, d].map((x) => full(x)));
    expect((await db.list()).map((x) => x.patientId)).toEqual(['ana garcía', 'Zed', '王伟', 'Ana García']);
    expect((await db.list({ patient: 'ANA' })).length).toBe(2);
    expect((await db.list({ patient: '王' })).map((x) => x.id)).toEqual([c.id]);
    expect((await db.list({ from: '2026-02-01', to: '2026-02-28' })).map((x) => x.id)).toEqual([d.id, c.id]);
    expect((await db.list({ eye: 'OS' })).map((x) => x.id)).toEqual([b.id]);
    expect((await db.list({ result: 'not-analysed' })).map((x) => x.id)).toEqual([c.id]);
    // the clinician overrode the only positive label: the record counts as healthy now
    expect((await db.list({ result: 'healthy' })).map((x) => x.id)).toEqual([d.id]);
    expect(suggestedAction(d)).toBe('rescreen-12m');
    expect(suggestedAction(a)).toBe('refer');
    expect(suggestedAction(c)).toBe('retake');
    await db.delete(a.id);
    expect(await db.get(a.id)).toBeUndefined();
    db.close();
  });

  it('a quota error becomes a clear storage-full message', () => {
    const q = new DOMException('full', 'QuotaExceededError');
    const e = storageError(q, 'the record');
    expect(e.code).toBe('storage-full');
    expect(e.message).toMatch(/storage .* is full/);
    expect(e.message).toMatch(/export/i);
  });
});

describe('export / import', () => {
  it('round-trips several records with their photos through one file into a fresh database', async () => {
    const db = await freshDb();
    const a = rec({ patientId: 'P "quoted", 1', notes: 'line1\nline2 — ñ 中文' });
    const b = rec({ eye: 'OS', review: { reviewer: 'Dr A', reviewedAt: '2026-11-21T10:00:00Z', overrides: { hm: true } } });
    await db.saveMany([full(a, bytes(0, 255, 128, 7)), full(b, bytes(5))]);
    const fulls = await Promise.all((await db.list()).map(async (r) => (await db.get(r.id))!));
    const text = await exportRecords(fulls);
    db.close();

    const parsed = parseExport(text);
    const other = await freshDb();
    await other.saveMany(parsed);
    const backA = await other.get(a.id);
    expect(backA?.record.patientId).toBe(a.patientId);
    expect(backA?.record.notes).toBe(a.notes);
    expect(backA?.record.analysis).toEqual(a.analysis);
    expect(await arr(backA!.photo)).toEqual([0, 255, 128, 7]);
    expect((await other.get(b.id))?.record.review?.overrides).toEqual({ hm: true });
    expect(await other.list()).toHaveLength(2);
    other.close();
  });

  it('importing an old export never overwrites a newer local edit; a newer export replaces an older local copy', async () => {
    const db = await freshDb();
    const r = rec({ notes: 'v1' });
    const v1 = await db.save(full(r, bytes(1)));
    const oldExport = parseExport(await exportRecords([(await db.get(r.id))!]));
    await new Promise((res) => setTimeout(res, 5));
    await db.save(full({ ...v1, notes: 'v2 edited here' }, bytes(2)));
    expect(await db.importMany(oldExport)).toEqual({ imported: 0, skipped: 1 });
    const kept = await db.get(r.id);
    expect(kept?.record.notes).toBe('v2 edited here');
    expect(await arr(kept!.photo)).toEqual([2]);

    const other = await freshDb();
    await other.importMany(oldExport);
    const newer = parseExport(await exportRecords([kept!]));
    expect(await other.importMany(newer)).toEqual({ imported: 1, skipped: 0 });
    expect((await other.get(r.id))?.record.notes).toBe('v2 edited here');
    expect((await other.get(r.id))?.record.updatedAt).toBe(kept!.record.updatedAt);
    db.close();
    other.close();
  });

  it('rejects files that are not FundusLens exports with a clear message', () => {
    expect(() => parseExport('hello', 'x.json')).toThrow(/not a FundusLens records file/);
    expect(() => parseExport('{"format":"other"}')).toThrow(/not a FundusLens records file/);
    expect(() => parseExport('{"format":"funduslens-records","version":9,"records":[]}')).toThrow(/newer FundusLens/);
    expect(() => parseExport('{"format":"funduslens-records","version":1,"records":[{"record":{"id":"a","patientId":"x","eye":"left","captureDate":"2026-01-01"}}]}')).toThrow(/OD or OS/);
  });

  it('names export files without unsafe characters', () => {
    const n = exportFileName([{ record: rec({ patientId: '../a b/c:d' }) }], new Date('2026-11-26T00:00:00Z'));
    expect(n).toBe('funduslens-a_b_c_d-OD-2026-11-20-2026-11-26.funduslens.json');
  });
});

describe('CSV', () => {
  it('escapes commas, quotes, newlines and formula-like text, and parses back to the same cells', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell(-1.5)).toBe('-1.5');
    expect(csvCell(' pad')).toBe('" pad"');
    const a = rec({ patientId: 'Doe, "J"', notes: 'two\r\nlines', camera: '+cam' });
    const b = rec({ analysis: null, patientId: '王伟' });
    const text = recordsCsv([a, b]);
    expect(text.startsWith('\uFEFF')).toBe(true);
    const rows = parseCsv(text);
    expect(rows).toHaveLength(3);
    const h = rows[0];
    const col = (r: string[], name: string) => r[h.indexOf(name)];
    expect(rows.every((r) => r.length === h.length)).toBe(true);
    expect(col(rows[1], 'patient_id')).toBe('Doe, "J"');
    expect(col(rows[1], 'notes')).toBe('two\r\nlines');
    expect(col(rows[1], 'camera')).toBe("'+cam");
    expect(col(rows[1], 'ma_probability')).toBe('0.7');
    expect(col(rows[1], 'ma_threshold')).toBe('0.5');
    expect(col(rows[1], 'result')).toBe('dr-signs');
    expect(col(rows[1], 'suggested_action')).toBe('refer');
    expect(col(rows[2], 'patient_id')).toBe('王伟');
    expect(col(rows[2], 'result')).toBe('not-analysed');
    expect(effectiveSummary(b)).toBe('not-analysed');
    // the map the outlines came from: a record saved before HiResCAM existed is Grad-CAM; no analysis, no map
    expect(col(rows[1], 'explanation_map')).toBe('gradcam');
    expect(col(rows[2], 'explanation_map')).toBe('');
    const hi = rec({ analysis: { ...a.analysis!, camMethod: 'hirescam' } });
    expect(col(parseCsv(recordsCsv([hi]))[1], 'explanation_map')).toBe('hirescam');
  });
});

describe('explanation map in records', () => {
  it('a saved analysis keeps the method its outlines were traced on; records without it read as Grad-CAM', async () => {
    const labels = [{ id: 'hex' as const, name: 'HEX', plainName: 'exudates', colour: '#ff0', threshold: 0.3 }];
    const hires = toRecordAnalysis(analysisResult({ camMethod: 'hirescam' }), labels);
    expect(hires.camMethod).toBe('hirescam');
    expect(recordCam(hires)).toBe('hirescam');
    const old = toRecordAnalysis(analysisResult(), labels);
    expect('camMethod' in old).toBe(false);
    expect(recordCam(old)).toBe('gradcam');
    expect(recordCam({ camMethod: 'bogus' as never })).toBe('gradcam'); // an edited import file
    expect(recordCam(null)).toBe('gradcam');

    const db = await freshDb();
    const r = rec({ analysis: { ...rec().analysis!, camMethod: 'hirescam' } });
    await db.saveMany([full(r)]);
    const text = await exportRecords([(await db.get(r.id))!]);
    db.close();
    expect(parseExport(text)[0].record.analysis?.camMethod).toBe('hirescam');
  });
});

