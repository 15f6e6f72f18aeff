import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildCompactResNet, GRADCAM_LAYER_DEFAULT } from './builders';
import { loadBundle, memoryBundle, saveBundle } from './bundle';
import { foldBatchNormArtifacts } from './fold';
import { makeMetadata } from './metadata';
import { defaultLabels } from './labels';
import { analyze } from '../analyze';
import { syntheticFundus } from '../analyze.test-fixtures';
import type { LabelSpec } from '../types';
import { isFundusLensError } from '../errors';
import { randomiseBatchNorm, relDiff } from '../tensor.test-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function bundleOf(net: tf.LayersModel, o: { float16?: boolean; labels?: LabelSpec[] } = {}) {
  const bundle = memoryBundle();
  const meta = makeMetadata({ inputSize: net.inputs[0].shape[1] as number, name: 'fold', version: '1.0.0', architecture: net.name, ...(o.labels ? { labels: o.labels } : {}) });
  const { weightsSha256: _ignored, ...rest } = meta;
  await saveBundle(net, rest, bundle, o);
  return bundle;
}

const classes = (net: tf.LayersModel) => net.layers.map((l) => l.getClassName());

describe('batch-norm folding (loadBundle foldBatchNorm)', () => {
  it('folds every BN of the compact net into its convolution: same logits and Grad-CAM features, float32 and float16 bundles', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1], seed: 11 });
    randomiseBatchNorm(net, 1);
    const nBn = classes(net).filter((c) => c === 'BatchNormalization').length;
    expect(nBn).toBeGreaterThan(4);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 3);
    for (const float16 of [false, true]) {
      const bundle = await bundleOf(net, { float16 });
      const plain = await loadBundle(bundle);
      const folded = await loadBundle(bundle, { foldBatchNorm: true });
      expect(classes(folded.net)).not.toContain('BatchNormalization');
      // the ReLUs after a convolution became its activation; those after an Add, and the one after the head's
      // first convolution (it reads the Grad-CAM layer, and the fast Grad-CAM weights need its linear output), stay
      const relusLeft = folded.net.layers.filter((l) => l.getClassName() === 'ReLU').map((l) => l.name);
      const nRelu = classes(net).filter((c) => c === 'ReLU').length;
      expect(relusLeft).toContain('head_relu1');
      expect(relusLeft).toContain(GRADCAM_LAYER_DEFAULT);
      expect(relusLeft.length).toBeLessThan(nRelu);
      expect(folded.net.getLayer('head_conv1').getConfig().activation).toBe('linear');
      expect(folded.net.getLayer('head_conv2').getConfig().activation).toBe('relu');
      expect(folded.net.getLayer('stem_conv').getConfig().activation).toBe('relu');
      expect(folded.net.layers.length).toBe(plain.net.layers.length - nBn - (nRelu - relusLeft.length));
      // the names the app relies on are still there
      expect(folded.features.outputs[0].name).toContain(GRADCAM_LAYER_DEFAULT);
      const [yp, yf] = [plain.net.predict(x) as tf.Tensor, folded.net.predict(x) as tf.Tensor];
      expect(await relDiff(yf, yp), `float16 ${float16}`).toBeLessThan(1e-4);
      const [ap, af] = [plain.features.predict(x) as tf.Tensor, folded.features.predict(x) as tf.Tensor];
      expect(await relDiff(af, ap)).toBeLessThan(1e-4);
      tf.dispose([yp, yf, ap, af]);
      plain.dispose();
      folded.dispose();
    }
    x.dispose();
    net.dispose();
  });

  it('the folded and fused model explains a photo as the plain one: probabilities, Grad-CAM, Guided Grad-CAM, outlines', async () => {
    const net = buildCompactResNet({ inputSize: 64, width: 4, blocks: [1, 1], seed: 21 });
    randomiseBatchNorm(net, 2);
    // every lesion label positive, so every map and every guided pass is computed
    const labels = defaultLabels({ ma: 1e-9, hm: 1e-9, hex: 1e-9, cws: 1e-9 });
    const bundle = await bundleOf(net, { labels });
    const plain = await loadBundle(bundle);
    const folded = await loadBundle(bundle, { foldBatchNorm: true });
    expect(classes(folded.net).filter((c) => c === 'ReLU').length).toBeLessThan(classes(plain.net).filter((c) => c === 'ReLU').length);
    const photo = syntheticFundus(160, 120);
    const [a, b] = [await analyze(photo, plain, { force: true, maps: 'all' }), await analyze(photo, folded, { force: true, maps: 'all' })];
    const maxDiff = (x: ArrayLike<number>, y: ArrayLike<number>) => {
      let d = 0;
      for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
      return d;
    };
    const ids = labels.map((l) => l.id);
    expect(maxDiff(ids.map((id) => b.probabilities[id]), ids.map((id) => a.probabilities[id]))).toBeLessThan(1e-5);
    expect(a.maps!.gradCam.length).toBe(4);
    expect(a.maps!.guidedGradCam!.length).toBe(4);
    for (const [i, m] of a.maps!.gradCam.entries()) expect(maxDiff(b.maps!.gradCam[i].data, m.data), m.label).toBeLessThan(1e-4);
    for (const [i, m] of a.maps!.guidedGradCam!.entries()) expect(maxDiff(b.maps!.guidedGradCam![i].data, m.data), m.label).toBeLessThan(1e-4);
    expect(maxDiff(b.maps!.combined!, a.maps!.combined!)).toBeLessThan(1e-4);
    expect(b.outlines.map((o) => o.label)).toEqual(a.outlines.map((o) => o.label));
    plain.dispose();
    folded.dispose();
    net.dispose();
  });

  it('leaves alone what must not fold: a BN after an Add, a convolution read twice or with a ReLU, names in `keep`', async () => {
    const input = tf.input({ shape: [12, 12, 3], name: 'image' });
    const conv = (name: string, o: object = {}) => tf.layers.conv2d({ name, filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed: name.length }), ...o });
    const bn = (name: string) => tf.layers.batchNormalization({ name });
    const a = bn('a_bn').apply(conv('a_conv').apply(input)) as tf.SymbolicTensor; // folds
    const bConv = conv('b_conv').apply(a) as tf.SymbolicTensor; // read by b_bn and by the add: stays
    const b = bn('b_bn').apply(bConv) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'sum' }).apply([b, bConv]) as tf.SymbolicTensor;
    const c = bn('c_bn').apply(sum) as tf.SymbolicTensor; // after an Add: stays
    const d = bn('d_bn').apply(conv('d_conv', { activation: 'relu' }).apply(c)) as tf.SymbolicTensor; // ReLU conv: stays
    const e = bn('e_bn').apply(conv('e_conv').apply(d)) as tf.SymbolicTensor; // kept by name
    const out = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(e) as tf.SymbolicTensor;
    const net = tf.model({ inputs: input, outputs: out, name: 'mixed' });
    randomiseBatchNorm(net, 1);
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => void net.save(tf.io.withSaveHandler(async (m) => (resolve(m), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }))));
    const weights = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
    const f = (await foldBatchNormArtifacts(artifacts.modelTopology, weights, ['e_bn']))!;
    expect(f.folded).toEqual(['a_bn']);
    const refolded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: f.modelTopology, weightSpecs: f.weightSpecs, weightData: f.weightData }));
    expect(refolded.layers.map((l) => l.name)).not.toContain('a_bn');
    for (const name of ['b_bn', 'c_bn', 'd_bn', 'e_bn']) expect(refolded.getLayer(name).getClassName()).toBe('BatchNormalization');
    const x = tf.randomUniform([1, 12, 12, 3], -1, 1, 'float32', 5);
    const [y0, y1] = [net.predict(x) as tf.Tensor, refolded.predict(x) as tf.Tensor];
    expect(await relDiff(y1, y0)).toBeLessThan(1e-4);
    // nothing to fold -> null (the caller loads the artifacts as they are)
    expect((await foldBatchNormArtifacts(artifacts.modelTopology, weights))!.folded).toEqual(['a_bn', 'e_bn']);
    expect(await foldBatchNormArtifacts(artifacts.modelTopology, weights, ['a_bn', 'e_bn'])).toBeNull();
    expect(await foldBatchNormArtifacts({ not: 'a topology' }, weights)).toBeNull();
    tf.dispose([x, y0, y1, ...Object.values(weights)]);
    refolded.dispose();
    net.dispose();
  });

  it('folds the stored bytes without making a tensor, to the same bits as the decoded fold; float16 bytes go through the decoder', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1], seed: 13 });
    randomiseBatchNorm(net, 1);
    for (const float16 of [false, true]) {
      const bundle = await bundleOf(net, { float16 });
      const mj = JSON.parse(new TextDecoder().decode(bundle.files.get('model.json'))) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
      const specs = mj.weightsManifest.flatMap((g) => g.weights);
      const data = mj.weightsManifest.flatMap((g) => g.paths.map((p) => bundle.files.get(p)!.slice().buffer as ArrayBuffer));
      const before = tf.memory().numTensors;
      const made = vi.spyOn(tf.engine(), 'makeTensor');
      const fromBytes = (await foldBatchNormArtifacts(mj.modelTopology, { specs, data }, [GRADCAM_LAYER_DEFAULT]))!;
      // float32: not one tensor made; float16: the decoder's, all released again
      expect(made.mock.calls.length > 0).toBe(float16);
      made.mockRestore();
      expect(tf.memory().numTensors).toBe(before);
      const decoded = tf.io.decodeWeights(data, specs);
      const fromTensors = (await foldBatchNormArtifacts(mj.modelTopology, decoded, [GRADCAM_LAYER_DEFAULT]))!;
      expect(fromBytes.folded).toEqual(fromTensors.folded);
      expect(fromBytes.fusedRelus).toEqual(fromTensors.fusedRelus);
      expect(fromBytes.modelTopology).toEqual(fromTensors.modelTopology);
      expect(fromBytes.weightSpecs.map((e) => e.name)).toEqual(fromTensors.weightSpecs.map((e) => e.name));
      const a = tf.io.decodeWeights(fromBytes.weightData, fromBytes.weightSpecs);
      const b = tf.io.decodeWeights(fromTensors.weightData, fromTensors.weightSpecs);
      for (const name of Object.keys(b)) {
        expect(a[name].shape).toEqual(b[name].shape);
        expect(Buffer.from((await a[name].data()).buffer).equals(Buffer.from((await b[name].data()).buffer)), name).toBe(true);
      }
      tf.dispose([...Object.values(decoded), ...Object.values(a), ...Object.values(b)]);
    }
    net.dispose();
  });

  it('file errors are reported as without folding, naming the file', async () => {
    const net = buildCompactResNet({ inputSize: 32, width: 4, blocks: [1, 1], seed: 12 });
    const bundle = await bundleOf(net);
    const shard = [...bundle.files.keys()].find((k) => k.endsWith('.bin'))!;
    bundle.files.delete(shard);
    await expect(loadBundle(bundle, { foldBatchNorm: true })).rejects.toSatisfy((e: unknown) => isFundusLensError(e) && e.code === 'model-missing-file' && e.file === shard);
    net.dispose();
  });
});
