import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildCompactResNet, loadBundle, makeMetadata, memoryBundle, prefetchBundle, saveBundle, sha256Hex, sha256HexAsync, METADATA_FILE, MODEL_FILE, type BundleReader } from './index';
import { isFundusLensError } from '../errors';
import { utf8Decode, utf8Encode } from './utf8';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const enc = new TextEncoder();

describe('sha256Hex', () => {
  it('matches the NIST / FIPS 180-4 test vectors', () => {
    expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(enc.encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(enc.encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(
      sha256Hex(enc.encode('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu')),
    ).toBe('cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1');
    expect(sha256Hex(new Uint8Array(1_000_000).fill(0x61))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('utf8 helpers round-trip non-ASCII text like TextEncoder/TextDecoder', () => {
    const text = 'threshold ≥ 0.5 — Grad-CAM «A^k» 👁 naïve';
    expect(Array.from(utf8Encode(text))).toEqual(Array.from(enc.encode(text)));
    expect(utf8Decode(enc.encode(text))).toBe(text);
    expect(utf8Decode(new Uint8Array([0x61, 0xff, 0x62]))).toBe(new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62])));
  });

  it('hashes a subarray view, not its whole buffer; 55/56/64-byte padding edges', () => {
    const buf = enc.encode('xxabcyy');
    expect(sha256Hex(buf.subarray(2, 5))).toBe(sha256Hex(enc.encode('abc')));
    // lengths around the one-vs-two padding block boundary give distinct, stable digests
    const d = [55, 56, 63, 64, 65].map((n) => sha256Hex(new Uint8Array(n).fill(0x61)));
    expect(new Set(d).size).toBe(5);
    expect(d[0]).toBe('9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318');
    expect(d[1]).toBe('b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a');
    expect(d[3]).toBe('ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb');
  });
});

describe('sha256HexAsync', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  const inputs = () => [new Uint8Array(0), enc.encode('abc'), new Uint8Array(1_000_003).map((_, i) => (i * 31) & 255), enc.encode('xxabcyy').subarray(2, 5)];

  it('gives the JS digest through WebCrypto, subarray views included', async () => {
    expect(typeof globalThis.crypto?.subtle?.digest).toBe('function'); // Node 20 has WebCrypto: this path is the one under test
    const spy = vi.spyOn(globalThis.crypto.subtle, 'digest');
    for (const d of inputs()) expect(await sha256HexAsync(d)).toBe(sha256Hex(d));
    expect(spy).toHaveBeenCalledTimes(inputs().length);
    spy.mockRestore();
  });

  it('falls back to the JS digest without WebCrypto (plain-HTTP origins) and when it refuses the data', async () => {
    vi.stubGlobal('crypto', undefined);
    for (const d of inputs()) expect(await sha256HexAsync(d)).toBe(sha256Hex(d));
    vi.stubGlobal('crypto', { subtle: { digest: () => Promise.reject(new TypeError('not an ArrayBufferView it accepts')) } });
    expect(await sha256HexAsync(enc.encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

async function savedBundle(o: { float16?: boolean; shardBytes?: number } = {}) {
  const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1], seed: 11 });
  // non-trivial BN statistics, so a round trip that lost non-trainable weights would show
  tf.tidy(() => {
    for (const l of net.layers.filter((x) => x.getClassName() === 'BatchNormalization')) {
      l.setWeights(l.getWeights().map((w, i) => tf.add(w, tf.randomUniform(w.shape, 0.1, 0.5, 'float32', i))));
    }
  });
  const bundle = memoryBundle();
  const meta = makeMetadata({ inputSize: 32, name: 'tiny', version: '1.0.0', architecture: 'compact w4 [1,1]' });
  const { weightsSha256: _ignored, ...rest } = meta;
  const written = await saveBundle(net, rest, bundle, o);
  return { net, bundle, written };
}

async function expectLoadError(bundle: ReturnType<typeof memoryBundle>, code: string, file?: string): Promise<void> {
  try {
    const m = await loadBundle(bundle);
    m.dispose();
  } catch (e) {
    if (!isFundusLensError(e)) throw e;
    expect(e.code).toBe(code);
    if (file !== undefined) {
      expect(e.file).toBe(file);
      expect(e.message).toContain(file);
    }
    return;
  }
  throw new Error(`expected loadBundle to fail with ${code}`);
}

describe('saveBundle / loadBundle', () => {
  it('round-trips: same outputs, converter-style files, hashes of every file', async () => {
    const { net, bundle, written } = await savedBundle({ shardBytes: 20_000 });
    const shards = [...bundle.files.keys()].filter((k) => k.endsWith('.bin')).sort();
    expect(shards.length).toBeGreaterThan(1);
    expect(shards[0]).toMatch(/^group1-shard1of\d+\.bin$/);
    expect(Object.keys(written.weightsSha256).sort()).toEqual([...shards, MODEL_FILE].sort());
    const modelJson = JSON.parse(new TextDecoder().decode(bundle.files.get(MODEL_FILE)));
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest[0].paths.length).toBe(shards.length);

    const before = tf.memory().numTensors;
    const m = await loadBundle(bundle);
    expect(m.metadata.name).toBe('tiny');
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const a = net.predict(x) as tf.Tensor;
    const b = m.logits(x);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])).toBe(0);
    tf.dispose([x, a, b]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('loads a model.json in the Python converter Keras layout (model_config, Functional, ./ paths)', async () => {
    const { net, bundle, written } = await savedBundle();
    const mj = JSON.parse(new TextDecoder().decode(bundle.files.get(MODEL_FILE)));
    const converted = {
      format: 'layers-model',
      generatedBy: 'keras v2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: {
        keras_version: '2.15.0',
        backend: 'tensorflow',
        model_config: { ...mj.modelTopology, class_name: 'Functional' },
        training_config: { loss: 'binary_crossentropy', optimizer_config: { class_name: 'Adam', config: {} } },
      },
      weightsManifest: [{ paths: ['./group1-shard1of1.bin'], weights: mj.weightsManifest[0].weights }],
    };
    const bytes = enc.encode(JSON.stringify(converted));
    bundle.files.set(MODEL_FILE, bytes);
    bundle.files.set(METADATA_FILE, enc.encode(JSON.stringify({ ...written, weightsSha256: { ...written.weightsSha256, [MODEL_FILE]: sha256Hex(bytes) } })));
    const m = await loadBundle(bundle);
    tf.tidy(() => {
      const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
      expect(tf.max(tf.abs(tf.sub(net.predict(x) as tf.Tensor, m.logits(x)))).dataSync()[0]).toBe(0);
    });
    m.dispose();
    net.dispose();
  });

  it('float16 option halves the weights and stays close', async () => {
    const full = await savedBundle();
    const half = await savedBundle({ float16: true });
    const size = (b: typeof full.bundle) => [...b.files].filter(([k]) => k.endsWith('.bin')).reduce((n, [, v]) => n + v.length, 0);
    expect(size(half.bundle)).toBe(size(full.bundle) / 2);
    const m = await loadBundle(half.bundle);
    tf.tidy(() => {
      const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
      const a = half.net.predict(x) as tf.Tensor;
      const b = m.logits(x);
      const err = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      const scale = tf.max(tf.abs(a)).dataSync()[0];
      expect(err).toBeGreaterThan(0); // really quantised
      expect(err / scale).toBeLessThan(1e-2);
      // dequantised weights equal float16 rounding of the originals
      const w0 = half.net.getLayer('stem_conv').getWeights()[0];
      const w1 = m.net.getLayer('stem_conv').getWeights()[0];
      const rel = tf.max(tf.div(tf.abs(tf.sub(w0, w1)), tf.add(tf.abs(w0), 1e-6))).dataSync()[0];
      expect(rel).toBeLessThan(2 ** -11 + 1e-7);
    });
    m.dispose();
    full.net.dispose();
    half.net.dispose();
  });

  it('rejects a tampered weight shard, naming it', async () => {
    const { net, bundle } = await savedBundle();
    const shard = bundle.files.get('group1-shard1of1.bin')!.slice();
    shard[100] ^= 0x01;
    bundle.files.set('group1-shard1of1.bin', shard);
    await expectLoadError(bundle, 'model-bad-hash', 'group1-shard1of1.bin');
    net.dispose();
  });

  it('rejects a changed model.json', async () => {
    const { net, bundle } = await savedBundle();
    bundle.files.set(MODEL_FILE, enc.encode(new TextDecoder().decode(bundle.files.get(MODEL_FILE)) + ' '));
    await expectLoadError(bundle, 'model-bad-hash', MODEL_FILE);
    net.dispose();
  });

  it('rejects a missing shard and missing metadata, naming the file', async () => {
    const { net, bundle } = await savedBundle({ shardBytes: 20_000 });
    const last = [...bundle.files.keys()].filter((k) => k.endsWith('.bin')).sort().pop()!;
    const saved = bundle.files.get(last)!;
    bundle.files.delete(last);
    await expectLoadError(bundle, 'model-missing-file', last);
    bundle.files.set(last, saved);
    bundle.files.delete(METADATA_FILE);
    await expectLoadError(bundle, 'model-missing-file', METADATA_FILE);
    net.dispose();
  });

  it('asks for every file before the first arrives (one round trip each on a network, not one after another), still naming faults in file order', async () => {
    const { net, bundle } = await savedBundle({ shardBytes: 20_000 });
    const shards = [...bundle.files.keys()].filter((k) => k.endsWith('.bin')).sort();
    expect(shards.length).toBeGreaterThan(1);
    // a reader that answers only when told to: what was asked while nothing had arrived yet?
    const asked: string[] = [];
    const waiting: (() => void)[] = [];
    const gated: BundleReader = {
      read: (path) => {
        asked.push(path);
        return new Promise((ok) => waiting.push(() => ok(bundle.files.get(path) ?? null)));
      },
    };
    const loading = loadBundle(gated);
    await new Promise((r) => setTimeout(r, 0));
    expect(asked).toEqual([MODEL_FILE, METADATA_FILE]); // both before either answered
    waiting.splice(0).forEach((go) => go());
    while (asked.length < 2 + shards.length) await new Promise((r) => setTimeout(r, 0));
    expect(asked.slice(2).sort()).toEqual(shards); // every shard asked before any shard answered
    expect(waiting.length).toBe(shards.length);
    waiting.splice(0).forEach((go) => go());
    const m = await loading;
    expect(m.metadata.name).toBe('tiny');
    m.dispose();

    // model.json AND a shard missing: the error names model.json, the file read first, as before
    const first = shards[0];
    const savedShard = bundle.files.get(first)!;
    const savedModel = bundle.files.get(MODEL_FILE)!;
    bundle.files.delete(first);
    bundle.files.delete(MODEL_FILE);
    await expectLoadError(bundle, 'model-missing-file', MODEL_FILE);
    bundle.files.set(MODEL_FILE, savedModel);
    // two shards damaged: the first in the manifest is named, whichever answered first
    const second = shards[1];
    const bad = bundle.files.get(second)!.slice();
    bad[0] ^= 1;
    bundle.files.set(second, bad);
    bundle.files.set(first, savedShard.slice().map((v, i) => (i === 0 ? v ^ 1 : v)));
    await expectLoadError(bundle, 'model-bad-hash', first);
    net.dispose();
  });

  it('prefetchBundle asks for every file without waiting for the caller, and swallows what loadBundle will report', async () => {
    const { net, bundle } = await savedBundle({ shardBytes: 20_000 });
    const shards = [...bundle.files.keys()].filter((k) => k.endsWith('.bin')).sort();
    const asked: string[] = [];
    const waiting: (() => void)[] = [];
    prefetchBundle({
      read: (path) => {
        asked.push(path);
        return new Promise((ok) => waiting.push(() => ok(bundle.files.get(path) ?? null)));
      },
    });
    expect(asked.sort()).toEqual([METADATA_FILE, MODEL_FILE].sort());
    waiting.splice(0).forEach((go) => go());
    while (asked.length < 2 + shards.length) await new Promise((r) => setTimeout(r, 0));
    expect(asked.slice(2).sort()).toEqual(shards);
    waiting.splice(0).forEach((go) => go());
    // failing reads and a model.json that is not JSON: nothing thrown, nothing unhandled
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    prefetchBundle({ read: (path) => (path === MODEL_FILE ? Promise.resolve(enc.encode('{not json')) : Promise.reject(new Error('offline'))) });
    prefetchBundle({ read: () => Promise.resolve(null) });
    await new Promise((r) => setTimeout(r, 20));
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
    net.dispose();
  });

  it('rejects a wrong schema version and malformed metadata', async () => {
    const { net, bundle, written } = await savedBundle();
    const put = (m: unknown) => bundle.files.set(METADATA_FILE, enc.encode(JSON.stringify(m)));
    put({ ...written, schemaVersion: 2 });
    await expectLoadError(bundle, 'model-bad-version', METADATA_FILE);
    put({ ...written, labels: [{ ...written.labels[0], threshold: 1.5 }] });
    await expectLoadError(bundle, 'model-bad-metadata', METADATA_FILE);
    bundle.files.set(METADATA_FILE, enc.encode('{ not json'));
    await expectLoadError(bundle, 'model-bad-metadata', METADATA_FILE);
    put({ ...written, weightsSha256: { [MODEL_FILE]: written.weightsSha256[MODEL_FILE] } });
    await expectLoadError(bundle, 'model-bad-hash', 'group1-shard1of1.bin');
    net.dispose();
  });

  it('saveBundle refuses metadata that does not fit the model', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1] });
    const { weightsSha256: _w, ...meta } = makeMetadata({ inputSize: 32 });
    const codeOf = async (m: typeof meta) => saveBundle(net, m, memoryBundle()).then(() => 'ok', (e) => (isFundusLensError(e) ? e.code : String(e)));
    expect(await codeOf({ ...meta, labels: meta.labels.slice(0, 3) })).toBe('model-label-mismatch');
    expect(await codeOf({ ...meta, gradCamLayer: 'nope' })).toBe('model-unknown-layer');
    expect(await codeOf({ ...meta, inputSize: 64, preprocess: { ...meta.preprocess, inputSize: 64 } })).toBe('model-bad-metadata');
    expect(await codeOf({ ...meta, createdAt: '' })).toBe('model-bad-metadata');
    const b = memoryBundle();
    await saveBundle(net, { ...meta, createdAt: '' }, b).catch(() => undefined);
    expect(b.files.size).toBe(0); // nothing written
    expect(await codeOf(meta)).toBe('ok');
    net.dispose();
  });

  it('rejects a label-count mismatch and an unknown Grad-CAM layer or layer class', async () => {
    const { net, bundle, written } = await savedBundle();
    const put = (m: unknown) => bundle.files.set(METADATA_FILE, enc.encode(JSON.stringify(m)));
    put({ ...written, labels: written.labels.slice(0, 4) });
    await expectLoadError(bundle, 'model-label-mismatch', METADATA_FILE);
    put({ ...written, gradCamLayer: 'block5_out' });
    await expectLoadError(bundle, 'model-unknown-layer', METADATA_FILE);
    // a layer class tfjs does not know (e.g. a custom Keras layer)
    const mj = new TextDecoder().decode(bundle.files.get(MODEL_FILE)).replace('"class_name":"GlobalAveragePooling2D"', '"class_name":"MyCustomPool"');
    bundle.files.set(MODEL_FILE, enc.encode(mj));
    const { [MODEL_FILE]: _drop, ...shards } = written.weightsSha256;
    put({ ...written, weightsSha256: shards });
    await expectLoadError(bundle, 'model-unknown-layer', MODEL_FILE);
    net.dispose();
  });
});
