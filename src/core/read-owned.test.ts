/**
 * readOwned(): a read-back the caller may write to, without a second copy where the backend already made one. On
 * the cpu backend data() is the tensor's own storage, so writing to it would change the tensor (and a later kernel's
 * input); on wasm it is a private copy.
 */
import * as tf from '@tensorflow/tfjs';
import { fovMaskOnGrid, upsampleMap } from './lesions/geometry';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from './analyze';
import { syntheticFundus, tinyModel } from './analyze.test-fixtures';
import { setupBackend } from './backends/index';
import { readBackIsCopy, readOwned } from './read-owned';

afterAll(async () => {
  await setupBackend(['cpu']);
});

describe.each([
  ['cpu', false],
  ['wasm', true],
])('readOwned on %s', (backend, copies) => {
  it(`probes read-backs as ${copies ? 'copies' : 'shared storage'}, and a write to its result leaves the tensor alone`, async () => {
    expect(await setupBackend([backend])).toBe(backend);
    expect(readBackIsCopy()).toBe(copies);
    const t = tf.tensor1d([1, 2, 3]);
    const before = t.dataSync() as Float32Array;
    expect(before === (t.dataSync() as Float32Array)).toBe(!copies); // what the probe relies on
    const mine = await readOwned(t);
    expect(Array.from(mine)).toEqual([1, 2, 3]);
    mine.fill(-7);
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    // the tensor still computes with its own values
    expect(Array.from(await tf.mul(t, 2).data())).toEqual([2, 4, 6]);
    t.dispose();
  });

  it('gives analyze() maps that are masked, independent of its tensors, and writable by the caller', async () => {
    expect(await setupBackend([backend])).toBe(backend);
    const photo = syntheticFundus(240, 180);
    const model = tinyModel();
    try {
      const tensorsBefore = tf.memory().numTensors;
      const a = await analyze(photo, model, { force: true, maps: 'all' });
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      const b = await analyze(photo, model, { force: true, maps: 'all' });
      const maps = [...a.maps!.gradCam, ...(a.maps!.guidedGradCam ?? [])];
      expect(maps.length).toBeGreaterThan(0);
      // the caller's writes to one result reach nothing else: not the next result, not the other maps
      const other = b.maps!.gradCam.map((m) => m.data.slice());
      for (const m of maps) m.data.fill(5);
      a.maps!.combined!.fill(5);
      b.maps!.gradCam.forEach((m, i) => expect(m.data).toEqual(other[i]));
      // masked: the square's corners lie outside the field of view (the class maps are masked when upsampled to the
      // model grid; on their own coarse grid a cell is neither inside nor outside)
      for (const m of b.maps!.guidedGradCam ?? []) expect(m.data[0]).toBe(0);
      const size = b.transform.inputSize;
      const fovMask = fovMaskOnGrid(b.fov, b.transform, size);
      for (const m of b.maps!.gradCam) expect(upsampleMap(m, size, fovMask)[0]).toBe(0);
      expect(b.maps!.combined![0]).toBe(0);
    } finally {
      model.dispose();
    }
  });
});
