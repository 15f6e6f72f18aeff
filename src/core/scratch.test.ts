/**
 * The photo stages' reused memory (scratch.ts): what an earlier call left in it never changes a result, and the
 * stages that use it allocate less.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { analyze, explainDetails } from './analyze';
import { syntheticFundus as tinyPhoto, tinyModelOnCpu } from './analyze.test-fixtures';
import { traceClassMap, traceOutlines } from './lesions/outlines';
import { detectOpticDisc, discExclusionWeights } from './lesions/disc';
import { DEFAULT_PREPROCESS, detectFov, preprocessToArray, resampleArea, fovMask, makeTransform } from './preprocess';
import { kthSmallest } from './preprocess/select';
import { rng, syntheticFundus } from './preprocess/synthetic-photos';
import { gaussianBlur } from './quality/blur';
import { assessQuality } from './quality';
import { fillScratchForTests, leaseF32, leaseGroup, releaseScratch, returnLease, scratchBytes, scratchSlot } from './scratch';
import { setPhotoKernelsEnabled } from './simd';
import { classMapLattice, fovMaskOnGrid } from './lesions/geometry';
import type { LabelMap, PreprocessParams, RgbImage } from './types';

afterEach(() => setPhotoKernelsEnabled(true));

/** Bit-level equality of float arrays without a slow element-wise diff. */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

const photoA = (): RgbImage => syntheticFundus({ width: 900, height: 640, cx: 450, cy: 320, r: 300, cornerText: true, seed: 3 });
const photoB = (): RgbImage => syntheticFundus({ width: 1200, height: 800, cx: 640, cy: 410, r: 370, brightness: 0.7, seed: 9 });

/** Everything the synchronous photo stages return for `img`, as plain data. */
function stages(img: RgbImage) {
  const fov = detectFov(img);
  const quality = assessQuality(img, fov);
  const pre = preprocessToArray(img, DEFAULT_PREPROCESS, fov);
  const t = makeTransform(fov, DEFAULT_PREPROCESS, img.width, img.height);
  const S = t.inputSize;
  // a map with a few blobs, traced through the disc-style weights as analyze() does
  const map = new Float32Array(S * S);
  for (let v = 0; v < S; v++) for (let u = 0; u < S; u++) map[v * S + u] = Math.max(0, 1 - Math.hypot(u - S * 0.3, v - S * 0.6) / 40) + Math.max(0, 1 - Math.hypot(u - S * 0.7, v - S * 0.4) / 25);
  const weights = discExclusionWeights({ x: fov.cx + fov.radius * 0.5, y: fov.cy, diameter: fov.radius * 0.3, confidence: 9 }, t, S, new Float32Array(S * S));
  const outlines = traceOutlines({ label: 'hm', width: S, height: S, data: map } as LabelMap, t, { mask: weights });
  // and a coarse class map on its lattice, inside the FOV, with the disc weights at the lattice's points
  const G = 16, coarse = new Float32Array(G * G);
  for (let j = 0; j < G; j++) for (let i = 0; i < G; i++) coarse[j * G + i] = Math.exp(-((i - 4) ** 2 + (j - 10) ** 2) / 8) + 0.7 * Math.exp(-((i - 11) ** 2 + (j - 5) ** 2) / 5);
  const lattice = classMapLattice(t, G);
  const latticeDisc = discExclusionWeights({ x: fov.cx + fov.radius * 0.5, y: fov.cy, diameter: fov.radius * 0.3, confidence: 9 }, lattice, lattice.inputSize);
  const classOutlines = traceClassMap({ label: 'hex', width: G, height: G, data: coarse } as LabelMap, t, { mask: latticeDisc, fov });
  return { fov, quality, pre, outlines, classOutlines, mask: fovMask(fov, t), disc: detectOpticDisc(img, fov) };
}

describe('scratch memory', () => {
  it('a slot hands out views of one buffer, grown to the largest request; release drops it', () => {
    const slot = scratchSlot();
    const a = slot.f32(1000);
    a.fill(7);
    const b = slot.f32(10);
    expect(b.buffer).toBe(a.buffer); // the same memory: the earlier view is stale now
    expect(b[3]).toBe(7);
    const before = scratchBytes();
    const c = slot.u8(1 << 20);
    expect(c.buffer).not.toBe(a.buffer);
    expect(scratchBytes()).toBeGreaterThanOrEqual(before + (1 << 20) - 4096);
    expect(slot.i32(5).buffer).toBe(c.buffer);
    releaseScratch();
    expect(slot.f32(4).buffer).not.toBe(c.buffer);
  });

  it("a lease is the caller's until handed back, then the next lease of its length reuses it; views never", () => {
    releaseScratch();
    const a = leaseF32(1000);
    const b = leaseF32(1000);
    expect(b).not.toBe(a); // both held: two arrays
    returnLease(a);
    returnLease(b);
    returnLease(leaseF32(1000)); // a third, made and handed back: only two are kept per length
    const kept = [leaseF32(1000), leaseF32(1000), leaseF32(1000)];
    expect(kept.filter((x) => x === a || x === b).length).toBe(2);
    expect(leaseF32(999)).not.toBe(kept[2]); // another length never gets it
    const whole = new Float32Array(2000);
    returnLease(whole.subarray(0, 1000)); // a view is dropped, not reused as an array of its own
    expect(leaseF32(1000).buffer).not.toBe(whole.buffer);
    returnLease(kept[0]);
    expect(scratchBytes()).toBeGreaterThanOrEqual(4000);
    releaseScratch();
    expect(leaseF32(1000)).not.toBe(kept[0]);
    // a group hands back everything it leased, once
    const group = leaseGroup();
    const g = [group.f32(500), group.f32(500)];
    group.returnAll();
    group.returnAll();
    const again = [leaseF32(500), leaseF32(500), leaseF32(500)];
    expect(again.filter((x) => g.includes(x)).length).toBe(2);
  });

  it('the model input and the FOV mask written into poisoned memory equal fresh ones (every colour path, both kernels)', () => {
    const img = photoA();
    const fov = detectFov(img);
    const params: PreprocessParams[] = [
      DEFAULT_PREPROCESS,
      { ...DEFAULT_PREPROCESS, clahe: { ...DEFAULT_PREPROCESS.clahe!, channel: 'green' } },
      { ...DEFAULT_PREPROCESS, clahe: null },
    ];
    for (const kernels of [true, false]) {
      setPhotoKernelsEnabled(kernels);
      for (const p of params) {
        const S = p.inputSize;
        const into = new Float32Array(S * S * 3).fill(NaN);
        const fresh = preprocessToArray(img, p, fov).data;
        expect(preprocessToArray(img, p, fov, into).data).toBe(into);
        expect({ kernels, clahe: p.clahe?.channel ?? null, same: sameBits(into, fresh) }).toEqual({ kernels, clahe: p.clahe?.channel ?? null, same: true });
      }
    }
    // the mask of a photo whose FOV is cut by the frame: the crop reaches past the photo, where nothing is written
    const cut = syntheticFundus({ width: 900, height: 520, cx: 450, cy: 260, r: 300, seed: 5 });
    const cutFov = detectFov(cut);
    const t = makeTransform(cutFov, DEFAULT_PREPROCESS, cut.width, cut.height);
    const fresh = fovMaskOnGrid(cutFov, t);
    expect(fresh[0]).toBe(0);
    const into = new Float32Array(t.inputSize ** 2).fill(NaN);
    expect(sameBits(fovMaskOnGrid(cutFov, t, t.inputSize, into), fresh)).toBe(true);
    expect(() => preprocessToArray(img, DEFAULT_PREPROCESS, fov, new Float32Array(12))).toThrow(RangeError);
  });

  it('two analyses at once each get their own leased memory: the same results as one after the other', async () => {
    const { model, photo } = await tinyModelOnCpu(async () => tinyPhoto(400, 300));
    try {
      const other = tinyPhoto(640, 480);
      releaseScratch();
      const a1 = await analyze(photo, model, { force: true, maps: 'all' });
      const b1 = await analyze(other, model, { force: true, maps: 'all' });
      fillScratchForTests(0xff);
      const [a2, b2] = await Promise.all([analyze(photo, model, { force: true, maps: 'all' }), analyze(other, model, { force: true, maps: 'all' })]);
      for (const [x, y] of [[a1, a2], [b1, b2]]) {
        expect(y.probabilities).toEqual(x.probabilities);
        expect(y.outlines).toEqual(x.outlines);
        expect(sameBits(y.maps!.combined!, x.maps!.combined!)).toBe(true);
      }
      expect(a1.probabilities).not.toEqual(b1.probabilities);
    } finally {
      model.dispose();
    }
  });

  for (const kernels of [true, false]) {
    it(`the photo stages give the same bits over memory an earlier photo left, or poisoned (${kernels ? 'WebAssembly kernels' : 'JS loops'})`, () => {
      setPhotoKernelsEnabled(kernels);
      releaseScratch();
      const fresh = stages(photoA());
      // another photo of another size fills the slots, then every byte is poisoned
      stages(photoB());
      fillScratchForTests(0xff);
      const reused = stages(photoA());
      expect(reused.fov).toEqual(fresh.fov);
      expect(reused.quality).toEqual(fresh.quality);
      expect(sameBits(reused.pre.data, fresh.pre.data)).toBe(true);
      expect(reused.outlines).toEqual(fresh.outlines);
      expect(reused.outlines.length).toBeGreaterThan(0);
      expect(reused.classOutlines).toEqual(fresh.classOutlines);
      expect(reused.classOutlines.length).toBeGreaterThan(1);
      expect(sameBits(reused.mask, fresh.mask)).toBe(true);
      expect(reused.disc).toEqual(fresh.disc);
      expect(fresh.disc).not.toBeNull();
      expect(scratchBytes()).toBeGreaterThan(0);
    });
  }

  it('kthSmallest, gaussianBlur and resampleArea into a given array: same values, the input untouched', () => {
    const rand = rng(4);
    const v = Float32Array.from({ length: 5000 }, () => rand());
    const copy = v.slice();
    const sorted = copy.slice().sort();
    fillScratchForTests(0xff);
    expect(kthSmallest(v, 1234)).toBe(sorted[1234]);
    expect(sameBits(v, copy)).toBe(true);
    for (const kernels of [true, false]) {
      setPhotoKernelsEnabled(kernels);
      const img = photoB();
      const out = new Float32Array(300 * 200 * 3).fill(NaN);
      expect(sameBits(resampleArea(img, 300, 200, 4, 0, 0, out), resampleArea(img, 300, 200, 4, 0, 0))).toBe(true);
      const grey = Float32Array.from({ length: 300 * 200 }, (_, i) => out[i * 3 + 1]);
      const into = new Float32Array(grey.length).fill(NaN);
      expect(gaussianBlur(grey, 300, 200, 1.5, into)).toBe(into);
      expect(sameBits(into, gaussianBlur(grey, 300, 200, 1.5))).toBe(true);
    }
  });

  it('a whole analysis after another photo and poisoned memory equals a fresh one, and so do the on-demand guided maps', async () => {
    const { model, photo } = await tinyModelOnCpu(async () => tinyPhoto(400, 300));
    try {
      releaseScratch();
      const fresh = await analyze(photo, model, { force: true, maps: 'all' });
      await analyze(tinyPhoto(640, 480), model, { force: true, maps: 'all' });
      fillScratchForTests(0xff);
      const again = await analyze(photo, model, { force: true, maps: 'all' });
      expect(again.quality).toEqual(fresh.quality);
      expect(again.probabilities).toEqual(fresh.probabilities);
      expect(again.outlines).toEqual(fresh.outlines);
      expect(again.opticDisc).toEqual(fresh.opticDisc);
      for (let i = 0; i < fresh.maps!.gradCam.length; i++) expect(sameBits(again.maps!.gradCam[i].data, fresh.maps!.gradCam[i].data)).toBe(true);
      expect(sameBits(again.maps!.combined!, fresh.maps!.combined!)).toBe(true);
      // the on-demand guided maps (explainDetails leases its input and mask too), over poisoned memory: analyze's
      const gradCamOnly = await analyze(photo, model, { force: true, maps: 'gradcam' });
      fillScratchForTests(0xff);
      const details = await explainDetails(photo, model, gradCamOnly);
      expect(fresh.maps!.guidedGradCam!.length).toBeGreaterThan(0);
      expect(details.guidedGradCam.length).toBe(fresh.maps!.guidedGradCam!.length);
      details.guidedGradCam.forEach((m, i) => expect(sameBits(m.data, fresh.maps!.guidedGradCam![i].data)).toBe(true));
      expect(sameBits(details.combined, fresh.maps!.combined!)).toBe(true);
    } finally {
      model.dispose();
    }
  });
});
