/**
 * Backend selection for every runtime (worker, CLI, training): try backends in order of
 * preference and install our gradient kernels: wasm's (wasm-gradients.ts) whenever wasm is the one
 * picked, WebGL's input gradient as forward convolutions (conv-input-grad.ts) whenever WebGL is.
 */
import * as tf from '@tensorflow/tfjs';
import { FundusLensError } from '../errors';
import { registerConvInputGradAsForward } from './conv-input-grad';
import { registerWasmGradientKernels } from './wasm-gradients';

export { registerConvInputGradAsForward } from './conv-input-grad';
export { clearWasmGradientCache, registerWasmGradientKernels, wasmGradientCacheSize, wasmGradientKernelsRegistered } from './wasm-gradients';

/**
 * Activates the first backend of `order` that initialises (e.g. ['webgpu', 'webgl', 'wasm',
 * 'cpu']) and returns its name. Backends must already be imported/registered by the caller
 * (core does not import platform-specific packages). Registers the wasm gradient kernels when
 * wasm is chosen. Throws FundusLensError('backend-failed') listing why each one failed.
 */
export async function setupBackend(order: string[]): Promise<string> {
  const failures: string[] = [];
  for (const name of order) {
    if (!tf.findBackendFactory(name)) {
      failures.push(`${name}: not available`);
      continue;
    }
    try {
      if (name === 'wasm') registerWasmGradientKernels();
      if (name === 'webgl') registerConvInputGradAsForward('webgl');
      const ok = await tf.setBackend(name);
      if (!ok) {
        failures.push(`${name}: failed to initialise`);
        continue;
      }
      await tf.ready();
      return tf.getBackend();
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message ?? String(e)}`);
    }
  }
  throw new FundusLensError(
    'backend-failed',
    `No compute backend could be started on this device (${failures.join('; ') || 'none requested'}). Try another browser or update it.`,
  );
}
