/**
 * What running the photo checks (FOV, gradability gate, optic disc: core/photo-checks.ts) beside the model saves on
 * one analysis, as the app's photo-checks worker does: analyze() with the checks inline and with `photoChecks`
 * from another thread, alternating run by run. Used by bench/parallel-gate.ts (Node, wasm/cpu) and by
 * bench/node-webgpu.ts --parallel-gate (a real GPU on a many-core host, where the app turns its helper on).
 * Node only (worker_threads).
 */
import type { Worker } from 'node:worker_threads';
import { analyze } from '../../src/core/analyze';
import type { FundusModel } from '../../src/core/model/fundus-model';
import type { PhotoChecks } from '../../src/core/photo-checks';
import type { RgbImage } from '../../src/core/types';
import { stats, type Stats } from './measure';

export interface GateBesideRecord {
  model: string;
  maps: 'none' | 'gradcam' | 'all';
  k: number;
  runs: number;
  warm: number;
  /** whole analysis with the checks inline / with the checks in the thread (wall clock, ms) */
  inline: Stats;
  beside: Stats;
  /** the checks' own time inline (the quality stage) / in the thread */
  gateInline: Stats;
  gateBeside: Stats;
  /** median beside ÷ median inline */
  ratio: number;
}

/** A function that sends `image` to `thread` (which answers { id, checks }) and resolves with its checks. */
export function checksFromThread(thread: Worker): (image: RgbImage) => Promise<PhotoChecks> {
  let nextId = 1;
  const waiting = new Map<number, (c: PhotoChecks) => void>();
  thread.on('message', (m: { id: number; checks: PhotoChecks }) => {
    waiting.get(m.id)?.(m.checks);
    waiting.delete(m.id);
  });
  // like the app's client: the pixels are copied to the thread (structured clone)
  return (image) =>
    new Promise((done) => {
      const id = nextId++;
      waiting.set(id, done);
      thread.postMessage({ id, image });
    });
}

/**
 * `warm` untimed pairs, then `runs` timed pairs of (inline, beside) analyses of `image`. `model` should already have
 * its positive labels set (withPositiveLabels) when `k` > 0: the analyses are then forced, so the model runs in full.
 * @throws when the two paths give different probabilities or outline counts
 */
export async function measureGateBeside(
  model: FundusModel,
  image: RgbImage,
  o: { maps: 'none' | 'gradcam' | 'all'; k: number; runs: number; warm: number; checks: (image: RgbImage) => Promise<PhotoChecks> },
): Promise<GateBesideRecord> {
  const inline: number[] = [], beside: number[] = [], gateInline: number[] = [], gateBeside: number[] = [];
  for (let run = 0; run < o.runs + o.warm; run++) {
    let t0 = performance.now();
    const a = await analyze(image, model, { maps: o.maps, force: o.k > 0 });
    const tInline = performance.now() - t0;
    t0 = performance.now();
    const b = await analyze(image, model, { maps: o.maps, force: o.k > 0, photoChecks: o.checks(image) });
    const tBeside = performance.now() - t0;
    if (JSON.stringify(a.probabilities) !== JSON.stringify(b.probabilities) || a.outlines.length !== b.outlines.length) {
      throw new Error('the analyses with the checks inline and beside the model differ');
    }
    if (run < o.warm) continue;
    inline.push(tInline);
    beside.push(tBeside);
    gateInline.push(a.timingsMs.quality ?? NaN);
    gateBeside.push(b.timingsMs.quality ?? NaN);
  }
  const si = stats(inline), sb = stats(beside);
  return {
    model: `${model.metadata.name}@${model.metadata.version}`,
    maps: o.maps,
    k: o.k,
    runs: o.runs,
    warm: o.warm,
    inline: si,
    beside: sb,
    gateInline: stats(gateInline),
    gateBeside: stats(gateBeside),
    ratio: Math.round((sb.median / si.median) * 100) / 100,
  };
}
