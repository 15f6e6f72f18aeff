import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from './analyze';
import { tinyModel, tinyModelOnCpu } from './analyze.test-fixtures';
import { DISC_EXCLUSION_RADIUS, detectOpticDisc, discExclusionWeights, outlineEnclosesPoint } from './lesions/disc';
import { classMapLattice, fovMaskOnGrid, upsampleMap } from './lesions/geometry';
import { traceClassMap } from './lesions/outlines';
import type { FundusModel } from './model/fundus-model';
import { detectFov } from './preprocess/index';
import type { Outline, RgbImage } from './types';
import { decodeFile, IDRID } from '../test-utils/photos';

/** Area centroid of an outline's ring (photo pixels). */
function centroid(o: Outline): [number, number] {
  let a = 0, cx = 0, cy = 0;
  const p = o.points;
  for (let i = 0, j = p.length - 1; i < p.length; j = i++) {
    const f = p[j][0] * p[i][1] - p[i][0] * p[j][1];
    a += f; cx += (p[j][0] + p[i][0]) * f; cy += (p[j][1] + p[i][1]) * f;
  }
  return [cx / (3 * a), cy / (3 * a)];
}

describe('analyze(): lesion outlines are kept off the optic disc', () => {
  let model: FundusModel;
  let photo: RgbImage;
  // IDRiD_17: the photo whose Grad-CAM peaks on the disc in the app; 1024 px keeps it quick
  beforeAll(async () => {
    ({ model, photo } = await tinyModelOnCpu(() => decodeFile(join(IDRID, 'images', 'IDRiD_17.jpg'), 1024)));
  });
  afterAll(() => model.dispose());

  it('default: result.opticDisc is the detector\'s disc, no outline centroid inside the exclusion circle, none around the disc; maps unchanged; excludeOpticDisc: false restores the old outlines', async () => {
    const before = tf.memory().numTensors;
    // a low outline threshold so the random tiny net outlines plenty, the disc's surroundings included
    const opts = { maps: 'gradcam' as const, force: true, outlineThreshold: 0.2, minOutlineArea: 0.0002 };
    const on = await analyze(photo, model, opts);
    const off = await analyze(photo, model, { ...opts, excludeOpticDisc: false });
    expect(tf.memory().numTensors).toBe(before);

    const disc = detectOpticDisc(photo, detectFov(photo));
    expect(disc).not.toBeNull();
    expect(on.opticDisc).toEqual(disc);
    expect(off.opticDisc).toBeUndefined();

    const r = DISC_EXCLUSION_RADIUS * disc!.diameter;
    const insideDisc = (o: Outline) => { const [x, y] = centroid(o); return Math.hypot(x - disc!.x, y - disc!.y) < r; };
    const encloses = (o: Outline) => pointIn(o, disc!.x, disc!.y);
    expect(on.outlines.length).toBeGreaterThan(0);
    expect(on.outlines.filter(insideDisc)).toEqual([]);
    expect(on.outlines.filter(encloses)).toEqual([]);
    // the same model without the exclusion does outline the disc: the test exercises the case
    expect(off.outlines.filter((o) => insideDisc(o) || encloses(o)).length).toBeGreaterThan(0);

    // heat maps: identical with and without the exclusion (the maps are the honest picture)
    expect(on.maps!.gradCam.map((m) => m.label)).toEqual(off.maps!.gradCam.map((m) => m.label));
    on.maps!.gradCam.forEach((m, i) => expect(m.data).toEqual(off.maps!.gradCam[i].data));
    // the disc region of the returned maps was not zeroed
    const t = on.transform;
    const S = t.inputSize;
    // the class maps on the model grid, as drawn and traced: upsampled from their coarse grid and FOV-masked
    const fovMask = fovMaskOnGrid(on.fov, t, S);
    const onGrid = on.maps!.gradCam.map((m) => ({ ...m, width: S, height: S, data: upsampleMap(m, S, fovMask) }));
    const u = Math.floor((disc!.x - t.offsetX) / t.scale), v = Math.floor((disc!.y - t.offsetY) / t.scale);
    expect(onGrid.some((m) => m.data[v * S + u] > 0)).toBe(true);

    // with the exclusion: each class map traced on its lattice inside the FOV, times the disc weights at the
    // lattice's points (lesions/traceClassMap; analyze computes the weights once for all maps)
    const lattice = classMapLattice(t, on.maps!.gradCam[0].width);
    const discW = discExclusionWeights(disc!, lattice, lattice.inputSize);
    const expected = on.maps!.gradCam
      .filter((m) => on.positive[m.label])
      .flatMap((m) => traceClassMap(m, t, { threshold: opts.outlineThreshold, minArea: opts.minOutlineArea, mask: discW, fov: on.fov }))
      .filter((o) => !outlineEnclosesPoint(o, disc!.x, disc!.y));
    expect(on.outlines).toEqual(expected);
    // the disc weights matter here: without them the same tracer outlines the disc
    const unweighted = on.maps!.gradCam
      .filter((m) => on.positive[m.label])
      .flatMap((m) => traceClassMap(m, t, { threshold: opts.outlineThreshold, minArea: opts.minOutlineArea, fov: on.fov }));
    expect(unweighted.filter((o) => insideDisc(o) || encloses(o)).length).toBeGreaterThan(0);

    // false = exactly the earlier behaviour: outlines traced on the unmodified maps (inside the FOV)
    const old = on.maps!.gradCam
      .filter((m) => off.positive[m.label])
      .flatMap((m) => traceClassMap(m, off.transform, { threshold: opts.outlineThreshold, minArea: opts.minOutlineArea, fov: off.fov }));
    expect(off.outlines).toEqual(old);
  }, 60_000);

  it('no positive lesion label -> no disc search, no opticDisc', async () => {
    const m = tinyModel();
    try {
      for (const l of m.metadata.labels) l.threshold = 2; // a sigmoid never reaches 2
      const r = await analyze(photo, m, { force: true });
      expect(r.outlines).toEqual([]);
      expect(r.opticDisc).toBeUndefined();
    } finally {
      m.dispose();
    }
  });
});

/** Even-odd point-in-ring test. */
function pointIn(o: Outline, x: number, y: number): boolean {
  let inside = false;
  const p = o.points;
  for (let i = 0, j = p.length - 1; i < p.length; j = i++) {
    if (p[i][1] > y !== p[j][1] > y && x < ((p[j][0] - p[i][0]) * (y - p[i][1])) / (p[j][1] - p[i][1]) + p[i][0]) inside = !inside;
  }
  return inside;
}
