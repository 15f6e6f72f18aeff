/** The fine-tuning mix: only train rows, raw cells, masks linked by stem, reproducible selection. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDataset } from './dataset';
import { buildMix } from './mix';

async function makeSet(root: string, name: string, header: string, rows: string[], masks: [string, string][] = []): Promise<string> {
  const dir = path.join(root, name);
  await fs.mkdir(path.join(dir, 'images'), { recursive: true });
  await fs.writeFile(path.join(dir, 'labels.csv'), [header, ...rows].join('\n') + '\n');
  for (const r of rows) await fs.writeFile(path.join(dir, r.split(',')[0]), 'x');
  for (const [label, stem] of masks) {
    await fs.mkdir(path.join(dir, 'masks', label), { recursive: true });
    await fs.writeFile(path.join(dir, 'masks', label, `${stem}.png`), 'm');
  }
  return dir;
}

describe('buildMix', () => {
  it('takes train rows only, keeps unknown cells empty, links images and masks, and samples synthetic rows reproducibly', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'fl-mix-'));
    const real = await makeSet(root, 'codras', 'image,ma,hm,hex,cws,healthy,red,split', [
      'images/c1.jpg,,,1,,,1,train',
      'images/c2.jpg,,,0,,,0,test',
    ]);
    const synthRows = Array.from({ length: 6 }, (_, i) => `images/s${i}.jpg,${i % 2},0,0,0,${(i + 1) % 2},1,${i === 5 ? 'test' : 'train'}`);
    synthRows.push('images/s9.jpg,1,0,0,0,0,0,train'); // gradable=0: never taken
    const synth = await makeSet(root, 'synth', 'image,ma,hm,hex,cws,healthy,gradable,split', synthRows, [['ma', 's1']]);
    const out = path.join(root, 'mix');
    const src = () => [
      { dir: real, prefix: 'codras' },
      { dir: synth, prefix: 'synth', name: 'synthetic', select: { n: 3, seed: 7 } },
    ];
    const rows = await buildMix(out, src());
    expect(rows.map((r) => r.cells.source)).toEqual(['codras', 'synthetic', 'synthetic', 'synthetic']);
    expect(rows[0].cells).toMatchObject({ image: 'codras/c1.jpg', ma: '', hm: '', hex: '1', red: '1', split: 'train' });
    const stems = rows.slice(1).map((r) => r.stem);
    expect(stems.every((s) => ['s0', 's1', 's2', 's3', 's4'].includes(s))).toBe(true); // no test, no ungradable row
    // same seed -> same selection; the dataset reader reads the result
    const again = await buildMix(path.join(root, 'mix2'), src());
    expect(again.map((r) => r.stem)).toEqual(rows.map((r) => r.stem));
    const ds = await readDataset(out);
    expect(ds.items).toHaveLength(4);
    expect(Number.isNaN(ds.items[0].labels.ma)).toBe(true);
    expect(ds.items[0].red).toBe(1);
    for (const it of ds.items) expect(Boolean(it.masks.ma)).toBe(it.stem === 's1'); // masks follow their stem
    expect(await fs.readFile(path.join(out, 'codras', 'c1.jpg'), 'utf8')).toBe('x');
  });

  it('rejects the same stem in two sources and an unknown stem in a list', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'fl-mix-'));
    const a = await makeSet(root, 'a', 'image,ma,split', ['images/x.jpg,1,train']);
    const b = await makeSet(root, 'b', 'image,ma,split', ['images/x.jpg,0,train']);
    await expect(buildMix(path.join(root, 'm'), [{ dir: a, prefix: 'a' }, { dir: b, prefix: 'b' }])).rejects.toThrow(/x is in both/);
    await expect(buildMix(path.join(root, 'm2'), [{ dir: a, prefix: 'a', select: { stems: ['nope'] } }])).rejects.toThrow(/nope/);
  });
});
