// Node worker thread for bench/parallel-gate.ts: core's photoChecks on posted pixels, as the
// app's photo.worker.ts does in the browser. Plain JS that registers tsx, since a worker thread
// does not inherit the parent's TypeScript loader.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { photoChecks } = await import('../../src/core/photo-checks.ts');
parentPort.on('message', ({ id, image }) => parentPort.postMessage({ id, checks: photoChecks(image) }));
