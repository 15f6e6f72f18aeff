import { expect, test } from '@playwright/test';

// The first journey of every user: the built app loads in a real browser and says what it is.
test('the built app renders its shell and the screening-aid disclaimer', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/');
  await expect(page).toHaveTitle(/FundusLens/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('FundusLens');
  await expect(page.getByText(/not a diagnosis/i).first()).toBeVisible();
  expect(errors).toEqual([]);
});
