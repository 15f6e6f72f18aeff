import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { LESION_LABEL_IDS, type LesionLabelId } from '../../../src/core/types';
import { BP_MA_MAX_DD, renderFundus, conditionalRates, type FundusSpec, type SynthFundus } from './fundus';
import { imageSpec, writeSynthDataset } from './writer';
import { THUMB_HEIGHT, writeSampleThumbnails, writeSamples } from './samples';
import { connectedComponents, quantile } from './measure';
import { Rng, hashSeed } from './prng';
import { readDataset } from '../data/dataset';

const NONE = { ma: false, hm: false, hex: false, cws: false };
const ALL = { ma: true, hm: true, hex: true, cws: true };

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fl-synth-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, await readFile(join(d, e.name)));
    }
  };
  await walk(dir, '');
  return out;
}

describe('prng', () => {
  it('is deterministic and roughly uniform', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 2000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 2000 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.47);
    expect(mean).toBeLessThan(0.53);
    expect(hashSeed(1, 2)).not.toBe(hashSeed(2, 1));
  });
});

describe('generator determinism', () => {
  it('same seed -> same bytes (images, masks, labels.csv); another seed -> different images', async () => {
    const opts = { n: 4, seed: 11, sizes: [96, 128], ungradable: 0.25 };
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    const c = join(tmp, 'c');
    await writeSynthDataset({ ...opts, out: a });
    await writeSynthDataset({ ...opts, out: b });
    await writeSynthDataset({ ...opts, seed: 12, out: c });
    const fa = await filesOf(a);
    const fb = await filesOf(b);
    const fc = await filesOf(c);
    expect(fa.size).toBe(1 + 4 * 5); // labels.csv + 4 images + 4×4 masks
    expect([...fa.keys()].sort()).toEqual([...fb.keys()].sort());
    for (const [k, v] of fa) expect(v.equals(fb.get(k)!), k).toBe(true);
    const img = 'images/synth_000000.jpg';
    expect(fa.get(img)!.equals(fc.get(img)!)).toBe(false);
  });

  it('image i does not depend on how many images are generated', () => {
    const o = { out: '', n: 1, seed: 3 };
    const s5 = imageSpec({ ...o, n: 5 }, 4);
    const s500 = imageSpec({ ...o, n: 500 }, 4);
    expect(s5).toEqual(s500);
    const f1 = renderFundus({ width: 80, height: 64, lesions: ALL, ungradable: null }, 99);
    const f2 = renderFundus({ width: 80, height: 64, lesions: ALL, ungradable: null }, 99);
    expect(Buffer.from(f1.image.data).equals(Buffer.from(f2.image.data))).toBe(true);
  });
});

describe('dataset output', () => {
  it('writes the dataset format that readDataset reads, masks are 0/255 and image-sized', async () => {
    const dir = join(tmp, 'fmt');
    await writeSynthDataset({ out: dir, n: 6, seed: 5, sizes: [120], aspects: [1.5], ungradable: 0.5, testFraction: 0.5 });
    const ds = await readDataset(dir);
    expect(ds.items).toHaveLength(6);
    expect(ds.items.every((i) => i.split === 'train' || i.split === 'test')).toBe(true);
    expect(ds.items.some((i) => i.extra.gradable === '0')).toBe(true);
    for (const it of ds.items) {
      expect(it.labels.healthy === 1).toBe(LESION_LABEL_IDS.every((l) => it.labels[l] === 0));
      const meta = await sharp(it.image).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([120, 80, 'jpeg']);
      for (const l of LESION_LABEL_IDS) {
        const mm = await sharp(it.masks[l]!).metadata();
        expect([mm.width, mm.height, mm.channels, mm.format]).toEqual([120, 80, 1, 'png']);
        const data = await sharp(it.masks[l]!).raw().toBuffer();
        const values = new Set(data);
        expect([...values].every((v) => v === 0 || v === 255)).toBe(true);
        expect(values.has(255)).toBe(it.labels[l] === 1);
      }
    }
  });
});

describe('masks and labels', () => {
  const specs: [string, FundusSpec][] = [
    ['healthy square', { width: 160, height: 160, lesions: NONE, ungradable: null }],
    ['ma only', { width: 200, height: 150, lesions: { ...NONE, ma: true }, ungradable: null }],
    ['hm only', { width: 200, height: 133, lesions: { ...NONE, hm: true }, ungradable: null }],
    ['hex only', { width: 160, height: 160, lesions: { ...NONE, hex: true }, ungradable: null }],
    ['cws only', { width: 200, height: 150, lesions: { ...NONE, cws: true }, ungradable: null }],
    ['all, tiny', { width: 64, height: 48, lesions: ALL, ungradable: null, severity: 0.1 }],
    ['all, dark', { width: 160, height: 120, lesions: ALL, ungradable: 'too-dark' }],
    ['hm+hex, blurred', { width: 160, height: 120, lesions: { ...NONE, hm: true, hex: true }, ungradable: 'blurred' }],
  ];
  for (const [name, spec] of specs) {
    it(`${name}: label 1 <=> mask has foreground, requested lesions present, masks inside the field`, () => {
      for (const seed of [1, 2]) {
        const f = renderFundus(spec, hashSeed(seed, name.length));
        for (const l of LESION_LABEL_IDS) {
          const fg = f.masks[l].indexOf(1) >= 0;
          expect(f.labels[l], `${l} seed ${seed}`).toBe(fg ? 1 : 0);
          expect(fg, `${l} requested=${spec.lesions[l]}`).toBe(spec.lesions[l]);
        }
        expect(f.labels.healthy).toBe(LESION_LABEL_IDS.some((l) => spec.lesions[l]) ? 0 : 1);
        expect(f.gradable).toBe(spec.ungradable === null);
        expect(f.quality).toBe(spec.ungradable ?? 'good');
        const { cx, cy, radius } = f.geometry.fov;
        for (const l of LESION_LABEL_IDS) {
          const m = f.masks[l];
          for (let i = 0; i < m.length; i++) {
            if (!m[i]) continue;
            const x = (i % spec.width) + 0.5;
            const y = Math.floor(i / spec.width) + 0.5;
            expect(Math.hypot(x - cx, y - cy)).toBeLessThan(radius);
          }
        }
      }
    });
  }
});

describe('photo-like structure', () => {
  it('black outside the field, orange-red retina, bright disc, darker fovea, burnt-in caption', () => {
    const f = renderFundus({ width: 300, height: 200, lesions: NONE, ungradable: null }, 777);
    const { width: W, data } = f.image;
    const px = (x: number, y: number) => {
      const i = (Math.round(y) * W + Math.round(x)) * 3;
      return [data[i], data[i + 1], data[i + 2]];
    };
    const g = f.geometry;
    const mean = (pts: [number, number][]) => pts.map(([x, y]) => px(x, y)).reduce((a, p) => a.map((v, k) => v + p[k] / pts.length), [0, 0, 0]);
    const ring = (x: number, y: number, r: number): [number, number][] => Array.from({ length: 16 }, (_, k) => [x + r * Math.cos(k * 0.39), y + r * Math.sin(k * 0.39)]);
    // the corners of the frame that the field does not reach, minus the caption: near black
    const side = g.fov.cx > W / 2 ? 2 : W - 3;
    expect(Math.max(...px(side, 100))).toBeLessThan(30);
    const retina = mean(ring(g.fovea.x, g.fovea.y, g.dd * 1.2));
    expect(retina[0]).toBeGreaterThan(retina[1] * 1.4); // red dominates
    expect(retina[1]).toBeGreaterThan(retina[2]);
    const disc = mean(ring(g.disc.x, g.disc.y, g.dd * 0.3));
    expect(disc[1]).toBeGreaterThan(retina[1] + 20); // the disc is pale
    const fovea = mean(ring(g.fovea.x, g.fovea.y, g.dd * 0.1));
    expect(fovea[1]).toBeLessThan(retina[1]);
    // caption: bright, grey or yellow pixels somewhere outside the field
    let captionPixels = 0;
    for (let y = 0; y < f.image.height; y++)
      for (let x = 0; x < W; x++) {
        const [r, gg] = px(x, y);
        if (r > 180 && gg > 180 && Math.hypot(x + 0.5 - g.fov.cx, y + 0.5 - g.fov.cy) > g.fov.radius + 2) captionPixels++;
      }
    expect(captionPixels).toBeGreaterThan(20);
    expect(f.caption.length).toBeGreaterThan(4);
  });

  it('wide frames are sometimes cut at top and bottom like 4:3 / 3:2 cameras', () => {
    let cut = 0;
    let whole = 0;
    for (let s = 0; s < 20; s++) {
      const f = renderFundus({ width: 48, height: 32, lesions: NONE, ungradable: null }, s);
      if (f.geometry.fov.radius > 16.5) cut++;
      else whole++;
    }
    expect(cut).toBeGreaterThan(3);
    expect(whole).toBeGreaterThan(1);
  });

  it('ungradable variants differ as intended from the same photo taken well', () => {
    const base: FundusSpec = { width: 160, height: 120, lesions: { ...NONE, hex: true }, ungradable: null };
    const stat = (f: SynthFundus) => {
      const { data, width: W, height: H } = f.image;
      const { cx, cy, radius } = f.geometry.fov;
      let sum = 0;
      let grad = 0;
      let n = 0;
      for (let y = 1; y < H - 1; y++)
        for (let x = 1; x < W - 1; x++) {
          if (Math.hypot(x - cx, y - cy) > radius * 0.8) continue;
          const i = (y * W + x) * 3 + 1;
          sum += data[i];
          grad += Math.abs(data[i + 3] - data[i - 3]);
          n++;
        }
      return { mean: sum / n, grad: grad / n };
    };
    const good = stat(renderFundus(base, 5));
    expect(stat(renderFundus({ ...base, ungradable: 'too-dark' }, 5)).mean).toBeLessThan(good.mean * 0.5);
    expect(stat(renderFundus({ ...base, ungradable: 'too-bright' }, 5)).mean).toBeGreaterThan(good.mean * 1.6);
    expect(stat(renderFundus({ ...base, ungradable: 'noisy' }, 5)).grad).toBeGreaterThan(good.grad * 3);
  });
});

describe('label frequencies', () => {
  it('defaults are roughly balanced (lesions ~45%, cws ~40%, healthy ~25%) and configurable', () => {
    const count = (opts: Parameters<typeof imageSpec>[0], n: number) => {
      const c = { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 0, ungradable: 0, test: 0 };
      for (let i = 0; i < n; i++) {
        const { spec, split } = imageSpec(opts, i);
        for (const l of LESION_LABEL_IDS) c[l] += spec.lesions[l] ? 1 : 0;
        if (LESION_LABEL_IDS.every((l) => !spec.lesions[l])) c.healthy++;
        if (spec.ungradable) c.ungradable++;
        if (split === 'test') c.test++;
      }
      return c;
    };
    const n = 4000;
    const d = count({ out: '', n, seed: 1 }, n);
    for (const l of ['ma', 'hm', 'hex'] as LesionLabelId[]) expect(Math.abs(d[l] / n - 0.45)).toBeLessThan(0.03);
    expect(Math.abs(d.cws / n - 0.4)).toBeLessThan(0.03);
    expect(Math.abs(d.healthy / n - 0.25)).toBeLessThan(0.03);
    expect(d.ungradable).toBe(0);
    expect(Math.abs(d.test / n - 0.15)).toBeLessThan(0.03);
    const e = count({ out: '', n, seed: 2, rates: { cws: 0.1 }, healthy: 0.5, ungradable: 0.2, testFraction: 0 }, n);
    expect(Math.abs(e.cws / n - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(e.healthy / n - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(e.ungradable / n - 0.2)).toBeLessThan(0.03);
    expect(e.test).toBe(0);
    const q = conditionalRates({ ma: 0.45, hm: 0.45, hex: 0.45, cws: 0.4 }, 0.25);
    expect(q.ma).toBeGreaterThan(0.45);
  });
});

describe('lesion statistics vs shared/data/lesion-stats.md', () => {
  it('sizes (DD), distance from the disc and colours roughly match the real IDRiD measurements', () => {
    // real p50 size in DD and p50 distance from the disc (lesion-stats.md)
    const real: Record<LesionLabelId, { size: number; dist: number }> = {
      ma: { size: 0.033, dist: 3.1 },
      // the part of the IDRiD fit above the BP/MA limit (fundus.ts BP_MA_MAX_DD): its median is
      // p50 · exp(σ · Φ⁻¹(0.75)) with σ = ln(0.175 / 0.07) / 1.2816
      hm: { size: 0.07 * Math.exp((Math.log(0.175 / 0.07) / 1.2816) * 0.6745), dist: 3.2 },
      hex: { size: 0.035, dist: 2.8 },
      cws: { size: 0.205, dist: 2.7 },
    };
    const sizes: Record<LesionLabelId, number[]> = { ma: [], hm: [], hex: [], cws: [] };
    const dists: Record<LesionLabelId, number[]> = { ma: [], hm: [], hex: [], cws: [] };
    const contrast: Record<LesionLabelId, number[]> = { ma: [], hm: [], hex: [], cws: [] };
    for (let k = 0; k < 3; k++) {
      const f = renderFundus({ width: 800, height: 600, lesions: ALL, ungradable: null, severity: 1 }, 300 + k);
      const { width: W, height: H, data } = f.image;
      const g = f.geometry;
      for (const l of LESION_LABEL_IDS) {
        for (const c of connectedComponents(f.masks[l], W, H)) {
          sizes[l].push(c.equivalentDiameter / g.dd);
          dists[l].push(Math.hypot(c.cx - g.disc.x, c.cy - g.disc.y) / g.dd);
          // green contrast: component centre vs the background 0.2 DD to the side of it
          const ox = Math.round(c.cx + Math.max(4, c.equivalentDiameter) + 0.1 * g.dd);
          const cxr = Math.round(c.cx - 0.5);
          const cyr = Math.round(c.cy - 0.5);
          if (ox < W && cyr >= 0 && cyr < H && !f.masks[l][cyr * W + ox]) contrast[l].push(data[(cyr * W + cxr) * 3 + 1] - data[(cyr * W + ox) * 3 + 1]);
        }
      }
    }
    for (const l of LESION_LABEL_IDS) {
      const p50 = quantile(sizes[l], 0.5);
      expect(p50, `${l} size p50 ${p50}`).toBeGreaterThan(real[l].size / 1.5);
      expect(p50, `${l} size p50 ${p50}`).toBeLessThan(real[l].size * 1.5);
      const d50 = quantile(dists[l], 0.5);
      expect(Math.abs(d50 - real[l].dist), `${l} distance p50 ${d50}`).toBeLessThan(0.9);
      expect(quantile(dists[l], 0.1), `${l} distance p10`).toBeGreaterThan(0.9); // never on the disc
    }
    // red lesions are darker, exudates and cotton wool spots brighter (green channel)
    expect(quantile(contrast.ma, 0.5)).toBeLessThan(-3);
    expect(quantile(contrast.hm, 0.5)).toBeLessThan(-5);
    expect(quantile(contrast.hex, 0.5)).toBeGreaterThan(5);
    expect(quantile(contrast.cws, 0.5)).toBeGreaterThan(3);
    // exudates come in numbers, cotton wool spots are few
    expect(sizes.hex.length).toBeGreaterThan(3 * sizes.cws.length);
  });

  it('splits red spots at the BP/MA size limit, as the paper\'s element annotation does', () => {
    let ma = 0;
    let hm = 0;
    for (let k = 0; k < 3; k++) {
      const f = renderFundus({ width: 800, height: 600, lesions: { ...NONE, ma: true, hm: true }, ungradable: null, severity: 1 }, 400 + k);
      const limit = BP_MA_MAX_DD * f.geometry.dd;
      for (const r of f.lesions) {
        if (r.label === 'ma') {
          ma++;
          expect(r.diameter).toBeLessThanOrEqual(limit + 1e-9);
        } else if (r.label === 'hm') {
          hm++;
          expect(r.diameter).toBeGreaterThanOrEqual(limit - 1e-9);
        }
      }
    }
    expect(ma).toBeGreaterThan(20);
    expect(hm).toBeGreaterThan(10);
  });
});

describe('demo samples', () => {
  it('writes good and ungradable samples with a manifest that matches the files', async () => {
    const dir = join(tmp, 'samples');
    const entries = await writeSamples(dir, 7);
    const manifest = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8'));
    expect(manifest).toEqual(entries);
    expect(entries.length).toBeGreaterThanOrEqual(6);
    expect(entries.some((e) => !e.gradable)).toBe(true);
    expect(entries.some((e) => e.labels.healthy === 1)).toBe(true);
    for (const e of entries) {
      const meta = await sharp(join(dir, e.file)).metadata();
      expect(meta.format).toBe('jpeg');
      expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(1024);
      expect(e.title.length).toBeGreaterThan(3);
      // the button's thumbnail: the same picture, small (THUMB_HEIGHT high, same aspect), a few KB
      const t = await sharp(join(dir, e.thumb)).metadata();
      expect(t.format).toBe('jpeg');
      expect(t.height).toBe(THUMB_HEIGHT);
      expect(Math.abs(t.width! / t.height! - meta.width! / meta.height!)).toBeLessThan(0.02);
      expect((await readFile(join(dir, e.thumb))).length).toBeLessThan(8000);
    }
  });

  it('--thumbs remakes only the thumbnails of an existing samples folder and records them in its manifest', async () => {
    const dir = join(tmp, 'samples-thumbs');
    const entries = await writeSamples(dir, 7);
    const photo = await readFile(join(dir, entries[0].file));
    const old = entries.map(({ thumb: _t, ...rest }) => rest);
    await writeFile(join(dir, 'samples.json'), JSON.stringify(old)); // a manifest from before thumbnails
    await rm(join(dir, 'thumbs'), { recursive: true });
    const again = await writeSampleThumbnails(dir);
    expect(again.map((e) => e.thumb)).toEqual(entries.map((e) => e.thumb));
    expect(JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8'))).toEqual(again);
    for (const e of again) expect((await sharp(join(dir, e.thumb)).metadata()).height).toBe(THUMB_HEIGHT);
    expect((await readFile(join(dir, entries[0].file))).equals(photo)).toBe(true); // the photos are left alone
  });
});

describe('npm run synth (cli.ts)', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const tsx = resolve(here, '../../../node_modules/.bin/tsx');
  it('writes a dataset, reports progress and counts, resolves relative --out against INIT_CWD', async () => {
    const r = spawnSync(tsx, [join(here, 'cli.ts'), '--n', '3', '--seed', '2', '--size', '64', '--ungradable', '0.5', '--out', 'rel-out'], {
      env: { ...process.env, INIT_CWD: tmp },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/synth 3\/3 \(100\.0%\)/);
    expect(r.stderr).toMatch(/3 images in .*rel-out/);
    const ds = await readDataset(join(tmp, 'rel-out'));
    expect(ds.items).toHaveLength(3);
  });
  it('rejects unknown options and bad values with a usage message', () => {
    const bad = spawnSync(tsx, [join(here, 'cli.ts'), '--n', '3', '--out', join(tmp, 'x'), '--colour', 'blue'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option --colour/);
    expect(bad.stderr).toMatch(/usage: npm run synth/);
    const badRate = spawnSync(tsx, [join(here, 'cli.ts'), '--out', join(tmp, 'y'), '--rates', 'ma=2'], { encoding: 'utf8' });
    expect(badRate.status).toBe(2);
    expect(badRate.stderr).toMatch(/bad --rates entry "ma=2"/);
  });
});
