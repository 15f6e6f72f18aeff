import { expect, test, type Page } from '@playwright/test';
import { APP } from './helpers';

interface Focused {
  tag: string;
  type: string | null;
  role: string | null;
  label: string | null;
}

async function tabTo(page: Page, match: (el: Focused) => boolean, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate((): Focused => {
      const a = document.activeElement as HTMLElement | null;
      return { tag: a?.tagName ?? '', type: a?.getAttribute('type') ?? null, role: a?.getAttribute('role') ?? null, label: a?.getAttribute('aria-label') ?? null };
    });
    if (match(el)) return;
  }
  throw new Error('focus never reached the target');
}

const focusVisible = (page: Page) => page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle !== 'none');

test('keyboard only: skip link, open a sample, read the verdict, zoom/pan the viewer, change the overlay; focus always visible', async ({ page }) => {
  await page.goto(APP);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to main content' })).toBeFocused();

  await tabTo(page, (e) => (e.label ?? '').startsWith('Analyse sample: Hard exudates'));
  expect(await focusVisible(page)).toBe(true);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 150_000 });

  await tabTo(page, (e) => e.role === 'img' && (e.label ?? '').startsWith('Fundus photo'));
  expect(await focusVisible(page)).toBe(true);
  const viewer = page.locator('.photo-canvas[role=img]');
  await expect(viewer).toHaveAttribute('data-fit', 'true');
  const fit = Number(await viewer.getAttribute('data-scale'));
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await expect.poll(async () => Number(await viewer.getAttribute('data-scale'))).toBeGreaterThan(fit * 1.5);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('1');
  await expect.poll(async () => Number(await viewer.getAttribute('data-scale'))).toBe(1);
  await page.keyboard.press('0');
  await expect(viewer).toHaveAttribute('data-fit', 'true');

  // overlay choice is a native radio group: Tab lands on the checked one, arrows move
  await tabTo(page, (e) => e.tag === 'INPUT' && e.type === 'radio');
  await expect(page.getByRole('radio', { name: 'Grad-CAM', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByRole('radio', { name: 'Guided Grad-CAM' })).toBeChecked();
  // label toggles are checkboxes reachable by Tab and Space
  await tabTo(page, (e) => e.tag === 'INPUT' && e.type === 'checkbox');
  await page.keyboard.press('Space');
  await expect(page.getByRole('checkbox', { name: 'Lesion outlines' })).not.toBeChecked();
});
