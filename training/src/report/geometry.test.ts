/**
 * Real-photo check of the evaluation geometry: an IDRiD expert mask carried to model pixels
 * through the preprocessing transform must land on the structure it outlines in the model
 * input. The optic disc is the brightest large structure, so its mapped mask must sit on
 * bright model pixels. Needs ../shared/data (CI has it): fails, never skips, without it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PREPROCESS, fovMask, preprocess } from '../../../src/core/preprocess/index';
import { decodeImage } from '../pipeline/decode';
import { maskToModel } from './localization';

// ../shared/data beside the checkout, or $FUNDUSLENS_DATA (as src/test-utils/photos.ts)
const IDRID = path.join(process.env.FUNDUSLENS_DATA ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data'), 'idrid');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('masks through the preprocessing transform (IDRiD)', () => {
  it('the optic-disc mask lands on the bright disc of the model input', async () => {
    expect(existsSync(path.join(IDRID, 'labels.csv')), `shared data missing at ${IDRID}`).toBe(true);
    const img = await decodeImage(path.join(IDRID, 'images', 'IDRiD_15.jpg'));
    const params = { ...DEFAULT_PREPROCESS, inputSize: 256, clahe: null };
    const { input, transform, fov } = preprocess(img, params);
    const px = await input.data();
    input.dispose();
    const { data, info } = await sharp(path.join(IDRID, 'masks', 'od', 'IDRiD_15.png')).greyscale().raw().toBuffer({ resolveWithObject: true });
    const photoMask = Uint8Array.from(data, (v) => (v > 127 ? 1 : 0));
    expect([info.width, info.height]).toEqual([img.width, img.height]);
    const m = maskToModel(photoMask, info.width, info.height, transform);

    // area is preserved up to the "any" rule's border growth
    const photoArea = photoMask.reduce((s, v) => s + v, 0);
    const modelArea = m.reduce((s, v) => s + v, 0);
    const expected = photoArea / (transform.scale * transform.scale);
    expect(modelArea).toBeGreaterThan(expected * 0.95);
    expect(modelArea).toBeLessThan(expected * 1.3);

    // brightness: the disc is brighter than the rest of the FOV...
    const S = transform.inputSize;
    const fm = fovMask(fov, transform);
    const bright = (i: number) => px[3 * i] + px[3 * i + 1] + px[3 * i + 2];
    let inSum = 0, inN = 0, outSum = 0, outN = 0;
    for (let i = 0; i < S * S; i++) {
      if (m[i]) {
        inSum += bright(i);
        inN++;
      } else if (fm[i] > 0.99) {
        outSum += bright(i);
        outN++;
      }
    }
    const onDisc = inSum / inN;
    expect(onDisc).toBeGreaterThan(1.2 * (outSum / outN));
    // ...and the mapped mask sits where the disc is brightest: the same mask moved by an eighth
    // of the disc diameter in any direction covers darker pixels (catches offset/scale errors).
    const d = Math.max(2, Math.round(Math.sqrt((4 * modelArea) / Math.PI) / 8));
    for (const [dx, dy] of [[d, 0], [-d, 0], [0, d], [0, -d]]) {
      let s = 0, n = 0;
      for (let v = 0; v < S; v++) {
        for (let u = 0; u < S; u++) {
          if (!m[v * S + u]) continue;
          const uu = u + dx, vv = v + dy;
          if (uu < 0 || vv < 0 || uu >= S || vv >= S) continue;
          s += bright(vv * S + uu);
          n++;
        }
      }
      expect(onDisc, `shift (${dx}, ${dy})`).toBeGreaterThan(s / n);
    }
  });
});
