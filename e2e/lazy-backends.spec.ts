import { expect, test, type Page } from '@playwright/test';
import { openSample } from './helpers';

// The analysis worker's script carries the wasm backend only; WebGL, WebGPU and CPU are chunks fetched when tried
// (src/worker/tfjs-lean.ts: the script is parsed before the model can load, on every cold start). Checked on what the
// browser actually fetched, by the kernel configs each script holds: a backend's code has 100+ (the wasm backend
// itself borrows one CPU config with the CPU helpers it shares; 20 is far from both).
const KERNEL_CONFIGS = 20;
const kernelsOf = (backend: string) => (script: string) => (script.match(new RegExp(`backendName:\\s*["'\`]${backend}["'\`]`, 'g')) ?? []).length >= KERNEL_CONFIGS;

async function scriptsFetched(page: Page, run: () => Promise<void>): Promise<string[]> {
  const bodies: Promise<string>[] = [];
  const onResponse = (r: import('@playwright/test').Response) => {
    if (/\.js(\?|$)/.test(r.url()) && r.ok()) bodies.push(r.text().catch(() => ''));
  };
  page.on('response', onResponse);
  await run();
  page.off('response', onResponse);
  return Promise.all(bodies);
}

test('a wasm start fetches no WebGL, WebGPU or CPU backend code; WebGL and CPU fetch their own when asked for', async ({ page }) => {
  test.setTimeout(240_000);
  const wasm = await scriptsFetched(page, async () => {
    await page.goto('/?backend=wasm');
    await openSample(page, /Analyse sample: Healthy/);
    await expect(page.getByTestId('backend')).toHaveText('wasm');
  });
  expect(wasm.some(kernelsOf('wasm'))).toBe(true); // the worker's own script was seen
  for (const other of ['webgl', 'webgpu', 'cpu']) expect(wasm.filter(kernelsOf(other)).length, `${other} backend fetched`).toBe(0);

  const webgl = await scriptsFetched(page, async () => {
    await page.goto('/?backend=webgl');
    await openSample(page, /Analyse sample: Healthy/);
    await expect(page.getByTestId('backend')).toHaveText('webgl');
  });
  expect(webgl.some(kernelsOf('webgl'))).toBe(true);

  // the last resort, when nothing else starts
  const cpu = await scriptsFetched(page, async () => {
    await page.goto('/?backend=cpu');
    await openSample(page, /Analyse sample: Healthy/);
    await expect(page.getByTestId('backend')).toHaveText('cpu');
  });
  expect(cpu.some(kernelsOf('cpu'))).toBe(true);
});
