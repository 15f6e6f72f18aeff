import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { IDRID, codrasPhotos, decodeFile, sharedDataAvailable } from '../../test-utils/photos';
import { isFundusLensError } from '../errors';
import { DEFAULT_PREPROCESS, detectFov, preprocess } from '../preprocess';
import { checkerboard, gradient, syntheticFundus, syntheticIndoorScene } from '../preprocess/synthetic-photos';
import type { QualityResult, RgbImage } from '../types';
import { assessQuality, blurImage, edgeSharpness, exposeImage, noisyImage } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function expectWellFormed(q: QualityResult) {
  expect(q.score).toBeGreaterThanOrEqual(0);
  expect(q.score).toBeLessThanOrEqual(1);
  expect(q.reasons.length).toBe(q.codes.length);
  expect(q.gradable).toBe(q.codes.length === 0);
  expect(q.gradable ? q.score >= 0.5 : q.score < 0.5).toBe(true);
  for (const r of q.reasons) expect(r.length).toBeGreaterThan(10);
  for (const [k, v] of Object.entries(q.measures)) expect(Number.isFinite(v), k).toBe(true);
}

/**
 * The six of the 536 real photos whose strongest edges are as wide as a sharp photo's blurred
 * by σ 2 px (edgeSharpness < THRESHOLDS.minEdgeSharpness): out of focus or hazy over much of
 * the field, though graded in their dataset. The gate asks for a retake; that is the intended
 * verdict. codras_0141 (hazy over one half) is the one in this test's sample.
 */
const SOFT_ORIGINALS = ['codras_0071.jpg', 'codras_0084.jpg', 'codras_0091.jpg', 'codras_0098.jpg', 'codras_0117.jpg', 'codras_0141.jpg'];

const idridFiles = () => readdirSync(join(IDRID, 'images')).filter((f) => f.endsWith('.jpg')).sort().map((f) => join(IDRID, 'images', f));

describe('gradability on real photos', () => {
  it('shared data is present (CI always has it)', () => {
    expect(sharedDataAvailable(), 'real photos missing: put shared/data beside the checkout (../shared/data) or set FUNDUSLENS_DATA').toBe(true);
  });

  it('all 20 IDRiD photos and a CODRAS sample (every 20th) are gradable, except the visibly soft ones: blurred', async () => {
    const files = [...idridFiles(), ...codrasPhotos(20)];
    expect(files.length).toBeGreaterThan(40);
    const failed: string[] = [];
    for (const f of files) {
      const name = f.split('/').pop()!;
      const q = assessQuality(await decodeFile(f, 1072));
      expectWellFormed(q);
      if (SOFT_ORIGINALS.includes(name)) expect(q.codes, name).toEqual(['blurred']);
      else if (!q.gradable) failed.push(`${name}: ${q.codes.join(',')}`);
    }
    expect(failed).toEqual([]);
  });

  it('each degradation is caught with the right reason (blur, blur + noise, dark, overexposed, noise)', async () => {
    const files = [...idridFiles().filter((_, i) => i % 4 === 0), ...codrasPhotos(130)];
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) {
      const name = f.split('/').pop();
      const img = await decodeFile(f, 1072);
      const original = assessQuality(img);
      expect(original.gradable, name).toBe(true);
      // ×2.5 over-exposes a normally exposed photo; a dark original (mean luma ~40) needs more
      // to be pushed into burn-out, otherwise ×2.5 merely corrects its exposure.
      const gain = Math.max(2.5, 230 / original.measures.meanLuma);
      const cases: [string, RgbImage, (codes: string[]) => boolean][] = [
        // σ = 3 px at 1072 px ≈ 1.8 px at the 512² model input: clearly out of focus
        ['blur σ3', blurImage(img, 3), (c) => c.includes('blurred')],
        // Real out-of-focus photos keep their sensor grain; noise must not hide the blur.
        ['blur σ2 + noise σ2', noisyImage(blurImage(img, 2), 2), (c) => c.includes('blurred')],
        ['blur σ3 + noise σ3', noisyImage(blurImage(img, 3), 3), (c) => c.includes('blurred')],
        ['exposure ×0.2', exposeImage(img, 0.2), (c) => c.includes('too-dark')],
        [`exposure ×${gain.toFixed(1)}`, exposeImage(img, gain), (c) => c.includes('too-bright') || c.includes('saturated')],
        ['noise σ15', noisyImage(img, 15), (c) => c.includes('noisy')],
      ];
      for (const [what, degraded, right] of cases) {
        const q = assessQuality(degraded);
        expectWellFormed(q);
        expect(q.gradable, `${name} ${what}`).toBe(false);
        expect(right(q.codes), `${name} ${what}: ${q.codes.join(',')}`).toBe(true);
        expect(q.codes, `${name} ${what}`).not.toContain('no-fov');
      }
      // light sensor noise on a sharp photo is not blur
      expect(assessQuality(noisyImage(img, 3)).codes, `${name} noise σ3`).not.toContain('blurred');
    }
  });
});

describe('edgeSharpness (edge width at the strongest edges)', () => {
  // A dark disc on a grey field (anti-aliased rim), the whole image blurred by s px, then noise.
  function disc(W: number, s: number, noise: number): Float32Array {
    const data = new Uint8Array(W * W * 3);
    for (let y = 0; y < W; y++)
      for (let x = 0; x < W; x++) {
        let inside = 0;
        for (let a = 0; a < 4; a++)
          for (let b = 0; b < 4; b++) {
            const dx = x + (a + 0.5) / 4 - W / 2, dy = y + (b + 0.5) / 4 - W / 2;
            if (dx * dx + dy * dy < 40 * 40) inside++;
          }
        data.fill(140 - (60 * inside) / 16, (y * W + x) * 3, (y * W + x) * 3 + 3);
      }
    let img: RgbImage = { width: W, height: W, channels: 3, data };
    if (s > 0) img = blurImage(img, s);
    if (noise > 0) img = noisyImage(img, noise, 3);
    return Float32Array.from({ length: W * W }, (_, i) => img.data[i * 3 + 1]);
  }
  const W = 128;
  const mask = new Uint8Array(W * W).fill(1);

  it('a sharper edge scores higher', () => {
    const e = [0, 1, 2, 3].map((s) => edgeSharpness(disc(W, s, 0), W, W, mask, 0));
    for (const r of e) expect(r.points).toBeGreaterThanOrEqual(20);
    for (let i = 1; i < e.length; i++) expect(e[i].sharpness, `blur ${i} vs ${i - 1}`).toBeLessThan(e[i - 1].sharpness - 0.05);
    expect(e[0].sharpness).toBeGreaterThan(1.6);
    expect(e[3].sharpness).toBeLessThan(1.2);
  });

  it('light pixel noise changes it little and keeps the order (unlike fine-scale energy)', () => {
    for (const s of [0, 1, 2]) {
      const clean = edgeSharpness(disc(W, s, 0), W, W, mask, 0).sharpness;
      for (const n of [1, 2]) {
        const noisy = edgeSharpness(disc(W, s, n), W, W, mask, n).sharpness;
        expect(Math.abs(noisy - clean) / clean, `blur ${s}, noise ${n}`).toBeLessThan(0.06);
      }
    }
    // blurred by 2 px with noise σ3 still reads blurrier than a 1 px edge without noise
    expect(edgeSharpness(disc(W, 2, 3), W, W, mask, 3).sharpness).toBeLessThan(edgeSharpness(disc(W, 1, 0), W, W, mask, 0).sharpness);
  });

  it('an image without edges gives 0 points and a finite value', () => {
    const r = edgeSharpness(new Float32Array(W * W).fill(90), W, W, mask, 0);
    expect(r.points).toBe(0);
    expect(r.sharpness).toBe(0);
  });
});

describe('non-fundus pictures are rejected', () => {
  it('indoor scene, gradient, checkerboard, grey-world photo without dark border: no retina found', () => {
    for (const [what, img] of [
      ['indoor scene', syntheticIndoorScene(640, 480)],
      ['gradient', gradient(320, 240)],
      ['checkerboard', checkerboard(320, 240, 16)],
      ['grey-world photo', syntheticIndoorScene(800, 600, 11)],
    ] as const) {
      const q = assessQuality(img);
      expectWellFormed(q);
      expect(q.gradable, what).toBe(false);
      expect(q.codes, what).toEqual(['no-fov']);
      expect(q.reasons[0]).toMatch(/fundus photo/);
    }
  });

  it('a grey disc on black (round, dark border, wrong colours) is not a fundus', () => {
    const img = syntheticFundus({ width: 640, height: 480, cx: 320, cy: 240, r: 220 });
    const d = img.data;
    for (let i = 0; i < d.length; i += 3) {
      const g = Math.round((d[i] + d[i + 1] + d[i + 2]) / 3);
      d[i] = g; d[i + 1] = g; d[i + 2] = g;
    }
    const q = assessQuality(img);
    expectWellFormed(q);
    expect(q.measures.fovFound).toBe(1);
    expect(q.codes).toContain('not-fundus');
  });
});

describe('bad input never crashes or yields NaN', () => {
  const code = (fn: () => unknown): string => {
    try { fn(); } catch (e) { expect(isFundusLensError(e)).toBe(true); return (e as { code: string }).code; }
    return 'no error';
  };
  it('empty buffer, wrong dimensions, 1×1: typed errors', () => {
    expect(code(() => assessQuality({ width: 0, height: 0, channels: 3, data: new Uint8Array(0) }))).toBe('invalid-image');
    expect(code(() => assessQuality({ width: 100, height: 80, channels: 3, data: new Uint8Array(100 * 80 * 3 - 7) }))).toBe('invalid-image');
    expect(code(() => assessQuality({ width: 1, height: 1, channels: 3, data: new Uint8Array(3) }))).toBe('image-too-small');
    expect(code(() => preprocess({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) }))).toBe('image-too-small');
  });
  it('all-black photo: ungradable, "no retina found"', () => {
    const q = assessQuality({ width: 640, height: 480, channels: 4, data: new Uint8Array(640 * 480 * 4) });
    expectWellFormed(q);
    expect(q.codes).toEqual(['no-fov']);
  });
  it('10000×8000 (80 MP) all-black: ungradable verdict and a finite, near-black model input', () => {
    const img: RgbImage = { width: 10000, height: 8000, channels: 3, data: new Uint8Array(10000 * 8000 * 3) };
    const q = assessQuality(img);
    expectWellFormed(q);
    expect(q.codes).toEqual(['no-fov']);
    const { input, fov } = preprocess(img, { ...DEFAULT_PREPROCESS, inputSize: 64 });
    const d = input.dataSync();
    input.dispose();
    expect(fov.found).toBe(false);
    // CLAHE's clip-and-redistribute lifts pure black by a few grey levels; nothing else appears.
    expect(d.every((x) => Number.isFinite(x) && x >= 0 && x < 0.05)).toBe(true);
  });
});

describe('API behaviour', () => {
  it('a FOV passed in gives the same verdict as detecting it inside', () => {
    const img = syntheticFundus({ width: 700, height: 520, cx: 350, cy: 260, r: 240, cornerText: true });
    const fov = detectFov(img);
    const a = assessQuality(img);
    const b = assessQuality(img, fov);
    expect(b.gradable).toBe(a.gradable);
    expect(b.codes).toEqual(a.codes);
    expect(b.measures.sharpness).toBe(a.measures.sharpness);
  });

  it('tf.memory().numTensors is unchanged after 20 quality + preprocess runs', () => {
    const img = syntheticFundus({ width: 320, height: 240, cx: 160, cy: 120, r: 110, cornerText: true });
    const params = { ...DEFAULT_PREPROCESS, inputSize: 64 };
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const fov = detectFov(img);
      const q = assessQuality(img, fov);
      expect(Number.isFinite(q.score)).toBe(true);
      const { input } = preprocess(img, params, fov);
      input.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
