/**
 * What `import * as tf from '@tensorflow/tfjs'` resolves to in the app's browser build (vite.config.ts aliases the
 * package name here; Node, vitest, the CLI and training keep the real package).
 *
 * The umbrella package also bundles tfjs-converter (graph models), tfjs-data (datasets) and registers the WebGL and
 * CPU backends on import. FundusLens uses none of the first two, and loads a backend only when it tries it
 * (analysis.worker.ts loadOn: WebGPU, WebGL and CPU are lazy chunks, the wasm backend is the one bundled). The
 * analysis worker's script is parsed and compiled before the model can load, on every cold start: the full package
 * made it 1.98 MB. Everything core uses of tfjs is below: the same tfjs-core and tfjs-layers, so the same kernels,
 * gradients and layer code as in Node, and results do not depend on this file.
 */
// what the umbrella package's own index imports for its side effects: every op's gradient and the chained ops
// (tensor.reshape(), tensor.sum(), …)
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
