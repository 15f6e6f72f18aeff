import { expect, test } from '@playwright/test';
import { APP } from './helpers';

test('demo mode cycles hands-free (photo, then overlays with the verdict) and stops on a key', async ({ page }) => {
  await page.goto(APP);
  await page.getByRole('link', { name: 'Demo mode' }).click();
  const demo = page.getByTestId('demo');
  await expect(demo).toBeVisible();
  await expect(demo).toHaveAttribute('data-phase', 'reveal', { timeout: 150_000 });
  await expect(page.locator('.demo-verdict')).toHaveText(/diabetic retinopathy|No signs|Ungradable/);
  await expect(demo.getByText(/not a diagnosis/i)).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(demo).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('FundusLens');
});

test('model card shows intended use, thresholds and limitations from the bundle metadata', async ({ page }) => {
  await page.goto(APP);
  await page.getByRole('link', { name: 'Model card' }).click();
  await expect(page.getByRole('heading', { name: /Model card/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Intended use' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Labels and decision thresholds' })).toBeVisible();
  await expect(page.getByRole('row', { name: /HEX/ }).first()).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Limitations' })).toBeVisible();
});
