import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset } from './dataset';
import { parseCsv } from './csv';
import { isFundusLensError } from '../../../src/core/errors';

// ../shared/data beside the checkout (CI lays it out the same way): these tests must fail, not skip, without it.
// ../shared/data beside the checkout, or $FUNDUSLENS_DATA (as src/test-utils/photos.ts)
const SHARED = process.env.FUNDUSLENS_DATA ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fl-dataset-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let caseNo = 0;
async function makeDataset(csv: string, files: string[], extra: Record<string, string> = {}): Promise<string> {
  const dir = join(tmp, `case${caseNo++}`);
  await mkdir(join(dir, 'images'), { recursive: true });
  for (const f of files) {
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await writeFile(join(dir, f), 'x');
  }
  await writeFile(join(dir, 'labels.csv'), csv);
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text);
  return dir;
}

async function expectInvalid(p: Promise<unknown>, ...fragments: string[]): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(isFundusLensError(e)).toBe(true);
    expect((e as { code: string }).code).toBe('dataset-invalid');
    for (const f of fragments) expect((e as Error).message).toContain(f);
    return;
  }
  throw new Error('expected a dataset-invalid error');
}

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, commas and line breaks inside quotes, CRLF and BOM', () => {
    const recs = parseCsv('\ufeffa,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n\r\n1,,3\n');
    expect(recs.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'two\nlines'],
      ['1', '', '3'],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 5]);
  });
  it('rejects an unterminated quote', () => {
    expect(() => parseCsv('a,b\n"x,1\n')).toThrow(/unterminated/);
  });
});

describe('readDataset: format and errors', () => {
  it('reads full and partial labels (empty = NaN), red, split, extra columns, masks and boxes', async () => {
    const csv = [
      'image,ma,hm,hex,cws,healthy,red,split,note',
      'images/a.jpg,1,0,0,0,0,1,train,plain',
      'b.jpg,,,1,,,1,test,"quoted, with comma"',
      '"images/c d.jpg",0,0,0,0,,0,,"multi\nline"',
      'images/e.jpg,,,,,1,,val,',
    ].join('\n');
    const dir = await makeDataset(csv, ['images/a.jpg', 'images/b.jpg', 'images/c d.jpg', 'images/e.jpg', 'masks/ma/a.png', 'masks/hex/b.png'], {
      'boxes.csv': 'image,class,cx,cy,w,h\nb.jpg,hex,0.5,0.5,0.1,0.1\nb.jpg,od,0.2,0.5,0.1,0.15\nzzz.jpg,red,0.5,0.5,0.1,0.1\n',
    });
    const ds = await readDataset(dir);
    expect(ds.items).toHaveLength(4);
    const [a, b, c, e] = ds.items;
    expect(a.image).toBe(join(dir, 'images/a.jpg'));
    expect(a.labels).toEqual({ ma: 1, hm: 0, hex: 0, cws: 0, healthy: 0 });
    expect(a.red).toBe(1);
    expect(a.split).toBe('train');
    expect(a.masks).toEqual({ ma: join(dir, 'masks/ma/a.png') });
    // bare file name resolves under images/
    expect(b.image).toBe(join(dir, 'images/b.jpg'));
    expect(Number.isNaN(b.labels.ma)).toBe(true);
    expect(Number.isNaN(b.labels.cws)).toBe(true);
    expect(b.labels.hex).toBe(1);
    // healthy inferred 0: a lesion is known to be present
    expect(b.labels.healthy).toBe(0);
    expect(b.extra.note).toBe('quoted, with comma');
    expect(b.boxes).toEqual([
      { class: 'hex', cx: 0.5, cy: 0.5, w: 0.1, h: 0.1 },
      { class: 'od', cx: 0.2, cy: 0.5, w: 0.1, h: 0.15 },
    ]);
    expect(b.masks).toEqual({ hex: join(dir, 'masks/hex/b.png') });
    // quoted image path with a space; all lesions known 0 -> healthy inferred 1; empty split -> undefined
    expect(c.stem).toBe('c d');
    expect(c.labels.healthy).toBe(1);
    expect(c.split).toBeUndefined();
    expect(c.extra.note).toBe('multi\nline');
    // healthy 1 makes unknown lesions 0
    expect(e.labels).toEqual({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 });
    expect(Number.isNaN(e.red!)).toBe(true);
    expect(ds.counts.ma).toEqual({ positive: 1, negative: 2, unknown: 1 });
    expect(ds.counts.red).toEqual({ positive: 2, negative: 1, unknown: 1 });
    expect(ds.labelsPresent).toEqual({ ma: true, hm: true, hex: true, cws: true, healthy: true, red: true });
    expect(ds.warnings.join(' ')).toMatch(/1 boxes refer to images that are not in labels.csv/);
  });

  it('keeps unknowns when inference is off, and missing columns are unknown for every row', async () => {
    const dir = await makeDataset('image,hex\na.jpg,1\nb.jpg,0\n', ['images/a.jpg', 'images/b.jpg']);
    const ds = await readDataset(dir, { inferHealthy: false });
    expect(Number.isNaN(ds.items[0].labels.healthy)).toBe(true);
    expect(ds.items[0].red).toBeUndefined();
    expect(ds.labelsPresent).toEqual({ ma: false, hm: false, hex: true, cws: false, healthy: false, red: false });
    const inferred = await readDataset(dir);
    expect(inferred.items[0].labels.healthy).toBe(0);
    expect(Number.isNaN(inferred.items[1].labels.healthy)).toBe(true); // hex 0 alone decides nothing
  });

  it('names the row for a wrong column count', async () => {
    const dir = await makeDataset('image,ma,hm,hex,cws,healthy\na.jpg,0,0,0,0,1\nb.jpg,0,0,0,1\n', ['images/a.jpg', 'images/b.jpg']);
    await expectInvalid(readDataset(dir), 'row 2', 'line 3', 'b.jpg', 'expected 6 columns', 'found 5');
  });

  it('names the row and column for a value that is not 0, 1 or empty', async () => {
    const dir = await makeDataset('image,ma,hm,hex,cws,healthy\na.jpg,0,0,0,0,1\nb.jpg,0,yes,0,0,0\n', ['images/a.jpg', 'images/b.jpg']);
    await expectInvalid(readDataset(dir), 'row 2', '"hm"', '"yes"');
  });

  it('names the row for a missing image file', async () => {
    const dir = await makeDataset('image,ma,hm,hex,cws,healthy\na.jpg,0,0,0,0,1\nimages/missing.jpg,1,0,0,0,0\n', ['images/a.jpg']);
    await expectInvalid(readDataset(dir), 'row 2', 'missing.jpg', 'not found');
  });

  it('rejects duplicates, contradictions, a missing image column and bad boxes', async () => {
    const dup = await makeDataset('image,ma\na.jpg,1\nimages/a.jpg,0\n', ['images/a.jpg']);
    await expectInvalid(readDataset(dup), 'row 2', 'listed twice');
    const contra = await makeDataset('image,ma,healthy\na.jpg,1,1\n', ['images/a.jpg']);
    await expectInvalid(readDataset(contra), 'row 1', 'healthy is 1');
    const noImage = await makeDataset('file,ma\na.jpg,1\n', ['images/a.jpg']);
    await expectInvalid(readDataset(noImage), '"image" column');
    const badBox = await makeDataset('image,hex\na.jpg,1\n', ['images/a.jpg'], { 'boxes.csv': 'image,class,cx,cy,w,h\na.jpg,hex,0.5,0.5,0.1,0.1\na.jpg,hex,0.5,1.7,0.1,0.1\n' });
    await expectInvalid(readDataset(badBox), 'boxes.csv row 2', '[0, 1]');
    await expectInvalid(readDataset(join(tmp, 'does-not-exist')), 'No labels.csv');
  });
});

describe('readDataset: the real data in shared/data', () => {
  it('reads idrid/ (20 photos, masks for every lesion label, 14 train / 6 test)', async () => {
    const ds = await readDataset(join(SHARED, 'idrid'));
    expect(ds.items).toHaveLength(20);
    expect(ds.counts.ma.positive).toBe(20);
    expect(ds.counts.hm.positive).toBe(20);
    expect(ds.counts.hex.positive).toBe(20);
    expect(ds.counts.cws).toEqual({ positive: 7, negative: 13, unknown: 0 });
    expect(ds.counts.healthy).toEqual({ positive: 0, negative: 20, unknown: 0 });
    expect(ds.labelsPresent.red).toBe(false);
    expect(ds.items.filter((i) => i.split === 'train')).toHaveLength(14);
    expect(ds.items.filter((i) => i.split === 'test').map((i) => i.stem)).toEqual(['IDRiD_15', 'IDRiD_16', 'IDRiD_17', 'IDRiD_18', 'IDRiD_19', 'IDRiD_20']);
    expect(ds.items.every((i) => Object.keys(i.masks).length === 4)).toBe(true);
    expect(ds.items.filter((i) => i.labels.cws === 1).map((i) => i.stem.slice(-2))).toEqual(['03', '08', '13', '14', '17', '18', '19']);
  });

  it('reads codras-idrid/ (516 photos, partial labels, red target, boxes)', async () => {
    const ds = await readDataset(join(SHARED, 'codras-idrid'));
    expect(ds.items).toHaveLength(516);
    expect(ds.counts.hex).toEqual({ positive: 221, negative: 295, unknown: 0 });
    expect(ds.counts.red).toEqual({ positive: 216, negative: 300, unknown: 0 });
    // red = 1 -> which of ma/hm is unknown; red = 0 -> both 0
    expect(ds.counts.ma).toEqual({ positive: 0, negative: 300, unknown: 216 });
    expect(ds.counts.hm).toEqual({ positive: 0, negative: 300, unknown: 216 });
    expect(ds.counts.cws.unknown).toBe(516);
    // 226 photos without any lesion box stay "healthy unknown" (cws is not annotated)
    const noLesion = ds.items.filter((i) => i.labels.hex === 0 && i.red === 0);
    expect(noLesion).toHaveLength(226);
    expect(noLesion.every((i) => Number.isNaN(i.labels.healthy))).toBe(true);
    expect(ds.items.filter((i) => i.split === 'test')).toHaveLength(103);
    const boxes = ds.items.flatMap((i) => i.boxes);
    expect(boxes).toHaveLength(3720);
    expect(new Set(boxes.map((b) => b.class))).toEqual(new Set(['od', 'hex', 'red']));
    // the labels were derived from the boxes: they must agree item by item
    expect(ds.items.every((i) => (i.labels.hex === 1) === i.boxes.some((b) => b.class === 'hex'))).toBe(true);
    expect(ds.items.every((i) => (i.red === 1) === i.boxes.some((b) => b.class === 'red'))).toBe(true);
    expect(ds.warnings).toEqual([]);
  });
});
