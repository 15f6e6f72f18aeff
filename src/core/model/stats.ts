/**
 * Size and cost of a model, for the model card and for choosing a compact variant:
 * parameters and multiply-accumulates of the convolution/dense layers (BN, ReLU, pooling
 * and additions are < 1 % of the work in these nets and are not counted).
 */
import type * as tf from '@tensorflow/tfjs';
import { modelNodes } from './graph';

export interface ModelStats {
  params: number;
  trainableParams: number;
  /** multiply-accumulates of one forward pass on one image (FLOPs ≈ 2 × MACs). */
  macs: number;
  /** output shape of each counted layer, for a quick look at the spatial pyramid */
  layers: { name: string; macs: number; outShape: number[] }[];
}

/** Counts parameters and per-image MACs of conv and dense layers of a built LayersModel. */
export function modelStats(net: tf.LayersModel): ModelStats {
  const layers: ModelStats['layers'] = [];
  let macs = 0;
  for (const node of modelNodes(net)) {
    const layer = node.outboundLayer;
    const cls = layer.getClassName();
    const out = node.outputTensors[0].shape.slice(1) as number[];
    const inShape = node.inputTensors[0]?.shape.slice(1) as number[] | undefined;
    let m = 0;
    if ((cls === 'Conv2D' || cls === 'DepthwiseConv2D') && inShape) {
      const cfg = layer.getConfig() as { kernelSize: number[] | number };
      const k = Array.isArray(cfg.kernelSize) ? cfg.kernelSize : [cfg.kernelSize, cfg.kernelSize];
      const cin = inShape[inShape.length - 1];
      const perOut = k[0] * k[1] * (cls === 'Conv2D' ? cin : 1);
      m = out.reduce((a, b) => a * b, 1) * perOut;
    } else if (cls === 'Dense' && inShape) {
      m = inShape[inShape.length - 1] * out.reduce((a, b) => a * b, 1);
    }
    if (m > 0) {
      layers.push({ name: layer.name, macs: m, outShape: out });
      macs += m;
    }
  }
  const trainableParams = net.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
  return { params: net.countParams(), trainableParams, macs, layers };
}
