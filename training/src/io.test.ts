import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildCompactResNet, loadBundle } from '../../src/core/model/index';
import { isFundusLensError } from '../../src/core/errors';
import { buildMetadata } from './export';
import { fsBundle, readJsonIfExists, writeJsonAtomic } from './io';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fl-io-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('fsBundle', () => {
  it('reads what it wrote (nested paths too) and returns null for a missing file', async () => {
    const b = fsBundle(dir);
    await b.write('sub/a.bin', new Uint8Array([1, 2, 3]));
    expect(Array.from((await b.read('sub/a.bin'))!)).toEqual([1, 2, 3]);
    expect(await b.read('nope.json')).toBeNull();
  });

  it('refuses paths that escape the bundle directory', async () => {
    const b = fsBundle(path.join(dir, 'inner'));
    await expect(b.write('../outside.bin', new Uint8Array([1]))).rejects.toThrow(/escapes/);
  });

  it('round-trips a model bundle through the core saver/loader, and a missing shard is a named FundusLensError', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1], seed: 3 });
    const meta = buildMetadata({
      name: 'io-test',
      version: '0.0.1',
      arch: { arch: 'compact', width: 4, blocks: [1] },
      inputSize: 32,
      thresholds: { ma: 0.3 },
      datasets: ['unit test'],
      counts: { train: 0, val: 0 },
      epochs: 0,
      backend: 'cpu',
      wallSeconds: 0,
      evaluation: [],
    });
    const bdir = path.join(dir, 'bundle');
    const { saveBundle } = await import('../../src/core/model/index');
    await saveBundle(net, meta, fsBundle(bdir));
    const m = await loadBundle(fsBundle(bdir));
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const a = (net.predict(x) as tf.Tensor).dataSync();
    const b = m.logits(x).dataSync();
    expect(Array.from(b).map((v, i) => Math.abs(v - a[i])).every((d) => d < 1e-5)).toBe(true);
    expect(m.metadata.labels.find((l) => l.id === 'ma')!.threshold).toBe(0.3);
    expect(m.metadata.intendedUse).toMatch(/not a medical device/i);
    m.dispose();
    net.dispose();
    x.dispose();
    const shard = (await fs.readdir(bdir)).find((f) => f.endsWith('.bin'))!;
    await fs.rm(path.join(bdir, shard));
    const err = await loadBundle(fsBundle(bdir)).catch((e) => e);
    expect(isFundusLensError(err)).toBe(true);
    expect(err.code).toBe('model-missing-file');
    expect(err.file).toBe(shard);
  });

  it('writeJsonAtomic / readJsonIfExists', async () => {
    const f = path.join(dir, 'x', 'state.json');
    expect(await readJsonIfExists(f)).toBeNull();
    await writeJsonAtomic(f, { a: 1 });
    expect(await readJsonIfExists(f)).toEqual({ a: 1 });
  });
});
