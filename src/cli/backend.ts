/**
 * Backend choice for the CLI: wasm by default (fastest pure-JS option in Node; core's
 * gradient kernels make Grad-CAM and guided backprop work there), tfjs-node when asked for
 * and installed (optional dependency), cpu as the last resort.
 */
import '@tensorflow/tfjs-backend-wasm';
import { setupBackend } from '../core/backends/index';
import type { BackendName } from './args';

export interface BackendChoice {
  backend: string;
  /** why a preferred backend was skipped, for the log line */
  notes: string[];
}

/** Starts `preferred`, falling back to wasm then cpu; returns what runs and why. */
export async function chooseBackend(preferred: BackendName): Promise<BackendChoice> {
  const notes: string[] = [];
  const order: string[] = [preferred, 'wasm', 'cpu'].filter((b, i, a) => a.indexOf(b) === i);
  if (preferred === 'tensorflow') {
    try {
      // Optional: a native TensorFlow binding; absent unless the user installed it.
      const name = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ name);
    } catch (e) {
      notes.push(`tensorflow: @tensorflow/tfjs-node is not installed (npm install @tensorflow/tfjs-node) — ${(e as Error).message.split('\n')[0]}`);
      order.shift();
    }
  }
  const backend = await setupBackend(order);
  if (backend !== preferred && !notes.length) notes.push(`${preferred} could not start`);
  return { backend, notes };
}
