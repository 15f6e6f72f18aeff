import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { APP, openSample } from './helpers';

test('a non-image and a corrupt JPEG give clear messages; the app stays usable', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(APP);
  await page.locator('#file-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('patient notes, not a photo') });
  await expect(page.getByTestId('photo-error')).toContainText(/Not an image: “notes\.txt” is not an image/);

  const corrupt = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF garbage garbage garbage')]);
  await page.locator('#file-input').setInputFiles({ name: 'broken.jpg', mimeType: 'image/jpeg', buffer: corrupt });
  await expect(page.getByTestId('photo-error')).toContainText(/Could not open the image/, { timeout: 60_000 });
  await expect(page.getByRole('region', { name: 'Queue' }).getByText(/failed/)).toHaveCount(2);

  await openSample(page, /Analyse sample: Hard exudates/);
  await expect(page.getByTestId('summary')).toHaveText(/.+/);
  expect(errors).toEqual([]);
});

test('a huge photo (12000×9000) is downscaled for analysis without crashing the tab', async ({ page }) => {
  test.setTimeout(240_000);
  const big = await sharp({ create: { width: 12000, height: 9000, channels: 3, background: { r: 120, g: 40, b: 20 } } })
    .composite([{ input: Buffer.from('<svg width="12000" height="9000"><rect width="12000" height="9000" fill="#000"/><circle cx="6000" cy="4500" r="4200" fill="#c0502a"/></svg>') }])
    .jpeg({ quality: 80 })
    .toBuffer();
  await page.goto(APP);
  await page.locator('#file-input').setInputFiles({ name: 'huge.jpg', mimeType: 'image/jpeg', buffer: big });
  await expect(page.getByText('Large photo (12000×9000) analysed at 4096×3072.')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('quality-verdict')).toBeVisible({ timeout: 150_000 });
  expect(await page.evaluate(() => document.title)).toMatch(/FundusLens/);
});

test('a model bundle that fails to load says which file is missing and how to fix it', async ({ page }) => {
  await page.route('**/models/demo/model.json', (r) => r.fulfill({ status: 404, body: 'not found' }));
  await page.goto(APP);
  await openSampleExpectingModelError(page);
});

async function openSampleExpectingModelError(page: import('@playwright/test').Page) {
  await page.getByRole('button', { name: /Analyse sample: Healthy retina/ }).click();
  const err = page.getByTestId('model-error');
  await expect(err).toBeVisible({ timeout: 60_000 });
  await expect(err).toContainText('model.json');
  await expect(err).toContainText(/How to fix/);
  await expect(err.getByRole('button', { name: 'Try again' })).toBeVisible();
}
