import { expect, type Page } from '@playwright/test';

/**
 * Shared steps for the journeys. The app is driven like a user would; `?backend=wasm` pins
 * the CPU backend so timings do not depend on SwiftShader's WebGL/WebGPU emulation.
 */
export const APP = '/?backend=wasm';

/** Count overlay pixels with any opacity (the overlay canvas is transparent elsewhere). */
export async function overlayPixels(page: Page): Promise<number> {
  return page.getByTestId('overlay-layer').evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext('2d')!;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
}

/** Opens a bundled sample by its title and waits for the quality verdict and summary. */
export async function openSample(page: Page, title: RegExp | string): Promise<void> {
  await page.getByRole('button', { name: typeof title === 'string' ? `Analyse sample: ${title}` : title }).click();
  await expect(page.getByTestId('quality-verdict')).toBeVisible({ timeout: 150_000 });
  await expect(page.getByTestId('summary')).toBeVisible();
}

/** If the photo was judged ungradable, use the explicit "analyse anyway" path. */
export async function analyseAnywayIfNeeded(page: Page): Promise<void> {
  const anyway = page.getByRole('button', { name: 'Analyse anyway' });
  if (await anyway.isVisible()) {
    await anyway.click();
    await expect(page.getByText(/Analysed anyway despite poor photo quality/)).toBeVisible({ timeout: 150_000 });
  }
}
