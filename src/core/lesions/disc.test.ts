import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFile, decodeMask, IDRID } from '../../test-utils/photos';
import { detectFov, fovFromCircle, makeTransform, wholeFrameFov } from '../preprocess/index';
import { rng } from '../preprocess/synthetic-photos';
import type { Outline, RgbImage } from '../types';
import { DISC_EXCLUSION_FADE, DISC_EXCLUSION_RADIUS, detectOpticDisc, discExclusionWeights, outlineEnclosesPoint } from './disc';

/**
 * The training data generator (training/src/synth), loaded at run time: tsconfig.node.json does
 * not include training/ (it is its own project), so a static import would not typecheck. Only
 * the part used here is typed.
 */
type RenderFundus = (
  spec: { width: number; height: number; lesions: Record<'ma' | 'hm' | 'hex' | 'cws', boolean>; ungradable: null },
  seed: number,
) => { image: RgbImage; geometry: { disc: { x: number; y: number; diameter: number } } };
const GENERATOR = '../../../training/src/synth/fundus';
const loadGenerator = async (): Promise<RenderFundus> => ((await import(/* @vite-ignore */ GENERATOR)) as { renderFundus: RenderFundus }).renderFundus;

const idridName = (k: number) => `IDRiD_${String(k).padStart(2, '0')}`;

/** A vignetted orange retina with texture noise and no disc at all. */
function retinaWithoutDisc(seed: number, W = 600, H = 400, r = 190): RgbImage {
  const data = new Uint8Array(W * H * 3);
  const rand = rng(seed);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const d = Math.hypot(x + 0.5 - W / 2, y + 0.5 - H / 2);
      if (d > r) continue;
      const vig = 1 - 0.4 * (d / r) ** 2, n = (rand() - 0.5) * 30, p = (y * W + x) * 3;
      data[p] = Math.min(255, 200 * vig + n);
      data[p + 1] = Math.max(0, 90 * vig + n);
      data[p + 2] = 30;
    }
  return { width: W, height: H, channels: 3, data };
}

describe('detectOpticDisc', () => {
  it('IDRiD (20 photos, expert optic-disc masks): centre inside the disc on ≥ 18, never a confident wrong answer', async () => {
    let hits = 0;
    const rows: string[] = [];
    for (let k = 1; k <= 20; k++) {
      const name = idridName(k);
      // 1024 px: the detector works at 256 px anyway, and decoding 20 full photos is slow
      const img = await decodeFile(join(IDRID, 'images', `${name}.jpg`), 1024);
      const od = await decodeMask(join(IDRID, 'masks', 'od', `${name}.png`), img.width, img.height);
      let sx = 0, sy = 0, n = 0;
      for (let i = 0; i < od.data.length; i++) if (od.data[i]) { sx += (i % img.width) + 0.5; sy += Math.floor(i / img.width) + 0.5; n++; }
      expect(n, name).toBeGreaterThan(0);
      const gx = sx / n, gy = sy / n, gd = 2 * Math.sqrt(n / Math.PI);
      const disc = detectOpticDisc(img, detectFov(img));
      const hit = disc !== null && od.data[Math.floor(disc.y) * img.width + Math.floor(disc.x)] === 1;
      if (hit) hits++;
      rows.push(`${name} ${disc ? `${(Math.hypot(disc.x - gx, disc.y - gy) / gd).toFixed(2)} DD conf ${disc.confidence.toFixed(1)}` : 'none'}${hit ? '' : ' MISS'}`);
      if (disc) {
        // whatever is reported is the disc: hiding a real lesion instead would be worse than nothing
        expect(Math.hypot(disc.x - gx, disc.y - gy), name).toBeLessThan(0.5 * gd);
        expect(disc.diameter / gd, name).toBeGreaterThan(0.7);
        expect(disc.diameter / gd, name).toBeLessThan(1.3);
      }
    }
    console.log(`optic disc on IDRiD: ${hits}/20 centres inside the expert mask\n  ${rows.join('\n  ')}`);
    expect(hits).toBeGreaterThanOrEqual(18);
  }, 120_000);

  it('synthetic photos of the training generator: within 0.5 disc diameters of the drawn disc', async () => {
    const renderFundus = await loadGenerator();
    const sizes: [number, number][] = [[480, 320], [640, 480], [400, 400], [512, 340], [720, 480], [300, 200]];
    let worst = 0;
    sizes.forEach(([width, height], i) => {
      const f = renderFundus({ width, height, lesions: { ma: true, hm: true, hex: i % 2 === 0, cws: i % 3 === 0 }, ungradable: null }, 1000 + i);
      const g = f.geometry;
      const disc = detectOpticDisc(f.image, detectFov(f.image));
      expect(disc, `seed ${1000 + i}`).not.toBeNull();
      const err = Math.hypot(disc!.x - g.disc.x, disc!.y - g.disc.y) / g.disc.diameter;
      worst = Math.max(worst, err);
      expect(err, `seed ${1000 + i}`).toBeLessThan(0.5);
    });
    console.log(`optic disc on ${sizes.length} synthetic photos: worst error ${worst.toFixed(2)} DD`);
  });

  it('no disc -> null (nothing is excluded): a discless retina, an image without a field of view', () => {
    for (const seed of [1, 2, 3]) {
      const img = retinaWithoutDisc(seed);
      expect(detectOpticDisc(img, fovFromCircle(300, 200, 190, img.width, img.height))).toBeNull();
    }
    const flat: RgbImage = { width: 64, height: 48, channels: 3, data: new Uint8Array(64 * 48 * 3).fill(120) };
    expect(detectOpticDisc(flat, wholeFrameFov(64, 48))).toBeNull();
    expect(detectOpticDisc(flat, { ...wholeFrameFov(64, 48), radius: 0 })).toBeNull();
  });

  it('a disc-sized bright spot at the centre of the field is taken for the macula, not the disc', () => {
    const img = retinaWithoutDisc(4);
    const r = 0.155 * 190;
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width; x++)
        if (Math.hypot(x - 305, y - 200) < r) img.data.fill(250, (y * img.width + x) * 3, (y * img.width + x) * 3 + 2);
    expect(detectOpticDisc(img, fovFromCircle(300, 200, 190, img.width, img.height))).toBeNull();
    // the same spot nasally is a disc
    const img2 = retinaWithoutDisc(4);
    for (let y = 0; y < img2.height; y++)
      for (let x = 0; x < img2.width; x++)
        if (Math.hypot(x - 400, y - 190) < r) img2.data.fill(250, (y * img2.width + x) * 3, (y * img2.width + x) * 3 + 2);
    const d = detectOpticDisc(img2, fovFromCircle(300, 200, 190, img2.width, img2.height));
    expect(d).not.toBeNull();
    expect(Math.hypot(d!.x - 400, d!.y - 190)).toBeLessThan(0.25 * d!.diameter);
    expect(d!.confidence).toBeGreaterThan(2);
  });

  it('times one call on a full-size IDRiD photo (printed, not asserted)', async () => {
    const img = await decodeFile(join(IDRID, 'images', 'IDRiD_17.jpg'));
    const fov = detectFov(img);
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      expect(detectOpticDisc(img, fov)).not.toBeNull();
      ms.push(performance.now() - t0);
    }
    console.log(`detectOpticDisc ${img.width}×${img.height}: ${ms.map((m) => m.toFixed(1)).join(' ')} ms`);
  }, 60_000);
});

describe('discExclusionWeights / outlineEnclosesPoint', () => {
  it('0 within 0.6 DD of the disc, rising monotonically to 1 at 1 DD, on the model grid', () => {
    const fov = fovFromCircle(500, 400, 380, 1000, 800);
    const t = makeTransform(fov, { inputSize: 128, clahe: null, fovMargin: 0 }, 1000, 800);
    const disc = { x: 700, y: 380, diameter: 0.155 * 760, confidence: 5 };
    const w = discExclusionWeights(disc, t);
    expect(w.length).toBe(128 * 128);
    const at = (x: number, y: number) => {
      const u = Math.floor((x - t.offsetX) / t.scale), v = Math.floor((y - t.offsetY) / t.scale);
      return w[v * 128 + u];
    };
    expect(at(700, 380)).toBe(0);
    expect(at(700 + 0.55 * disc.diameter, 380)).toBe(0);
    expect(at(700, 380 + 1.1 * disc.diameter)).toBe(1);
    expect(at(200, 400)).toBe(1);
    let prev = -1;
    for (let k = 0; k <= 20; k++) {
      const d = (DISC_EXCLUSION_RADIUS + ((DISC_EXCLUSION_FADE - DISC_EXCLUSION_RADIUS) * k) / 20) * disc.diameter;
      const v = at(700 - d, 380);
      expect(v).toBeGreaterThanOrEqual(prev - 0.05); // grid-cell rounding
      prev = v;
    }
    expect(prev).toBeGreaterThan(0.9);
  });

  it('outlineEnclosesPoint: inside / outside a ring', () => {
    const o: Outline = { label: 'hex', points: [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], area: 100, score: 1 };
    expect(outlineEnclosesPoint(o, 5, 5)).toBe(true);
    expect(outlineEnclosesPoint(o, 15, 5)).toBe(false);
  });
});
