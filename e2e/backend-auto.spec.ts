import { expect, test } from '@playwright/test';
import { openSample } from './helpers';

// This machine's Chromium has WebGL and (with --enable-unsafe-webgpu, the default config) WebGPU, both on the
// SwiftShader software renderer: several times slower than wasm (bench/results.md). 'Automatic' must notice,
// use wasm, say why, and still let the user pick the GPU backend by name.
test('Automatic passes over a software-rendered GPU, says so, and a GPU backend chosen by name is still used', async ({ page }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/?backend=auto');
  await openSample(page, /Analyse sample: Hard exudates/);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  // no "backend changed" notice: nothing the user asked for was refused
  await expect(page.getByText(/Compute backend changed/)).toHaveCount(0);
  await page.getByText('Settings').click();
  await expect(page.getByText('In use: wasm')).toBeVisible();
  const hint = page.getByTestId('software-gpu');
  await expect(hint).toContainText('software renderer');
  await expect(hint).toContainText(/SwiftShader/i);
  await expect(hint).toContainText('WebGL');

  // asking for WebGL by name uses it from the next analysis on (the hint, which is about Automatic, goes away)
  await page.getByTestId('backend-select').selectOption('webgl');
  await openSample(page, /Analyse sample: Healthy retina/);
  await expect(page.getByTestId('backend')).toHaveText('webgl');
  await expect(page.getByText('In use: webgl')).toBeVisible();
  await expect(hint).toHaveCount(0);
  expect(errors).toEqual([]);
});
