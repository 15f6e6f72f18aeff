import { expect, test, type Locator } from '@playwright/test';
import { APP, openSample } from './helpers';
import { exportFileWithOneRecord } from './fixtures-records';

// Where things sit on a phone and on a clinic laptop: the verdict, the photo that explains it and the
// record form, and how much of the first screen the intended-use notice takes.

const box = async (l: Locator) => {
  const b = await l.boundingBox();
  if (!b) throw new Error('not laid out');
  return b;
};

/** sample buttons whose text runs out of their box (names of the samples) */
const overflowingSamples = (page: import('@playwright/test').Page) =>
  page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('.sample')).filter((b) => b.scrollWidth > b.clientWidth).map((b) => b.textContent));

for (const [name, viewport] of [
  ['phone', { width: 390, height: 844 }],
  ['tablet', { width: 1024, height: 768 }],
  ['laptop', { width: 1366, height: 768 }],
] as const) {
  test.describe(`${name} (${viewport.width} × ${viewport.height})`, () => {
    test.use({ viewport });
    test('every sample name fits its button', async ({ page }) => {
      await page.goto(APP);
      await expect(page.locator('.sample')).toHaveCount(8);
      expect(await overflowingSamples(page)).toEqual([]);
    });
  });
}

test.describe('phone (390 × 844)', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('the intended use shows two lines and opens on demand; the photo comes before the record form', async ({ page }) => {
    await page.goto(APP);
    const note = page.getByTestId('disclaimer');
    const more = note.getByRole('button', { name: 'Show all' });
    await expect(more).toBeVisible(); // appears once the model card (the intended use) is read
    await expect(note.getByText('Screening aid, not a diagnosis.')).toBeVisible();
    const closed = (await box(note)).height;
    // the bold warning, two lines of the intended use and the button: well under a fifth of the screen
    expect(closed).toBeLessThan(844 / 5);
    await expect(more).toHaveAttribute('aria-expanded', 'false');
    await more.click();
    const less = note.getByRole('button', { name: 'Show less' });
    await expect(less).toHaveAttribute('aria-expanded', 'true');
    const open = (await box(note)).height;
    expect(open).toBeGreaterThan(closed + 40);
    // the whole text is there, not only its first lines (the demo model's intended use ends with this)
    await expect(note.locator('.intended-use')).toContainText('not a medical device', { ignoreCase: true });
    await less.click();
    expect((await box(note)).height).toBeCloseTo(closed, 0);

    await openSample(page, 'All four lesion types');
    const verdict = await box(page.getByTestId('summary'));
    const photo = await box(page.getByTestId('photo-layer'));
    const record = await box(page.getByRole('region', { name: 'Save as record' }));
    expect(verdict.y).toBeLessThan(photo.y);
    expect(photo.y + photo.height).toBeLessThanOrEqual(record.y);
  });
});

test.describe('phone (390 × 844), every page', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('the settings panel and everything in it fit the screen', async ({ page }) => {
    await page.goto(APP);
    await page.getByText('Settings', { exact: true }).click();
    const panel = page.locator('.settings-body');
    await expect(panel.getByRole('combobox', { name: 'Compute backend' })).toBeVisible();
    const p = await box(panel);
    expect(p.x).toBeGreaterThanOrEqual(0);
    expect(p.x + p.width).toBeLessThanOrEqual(390);
    // nothing inside sticks out of the panel (a select sized to its longest option did, by ~15 px)
    const outside = await panel.evaluate((el) => {
      const right = el.getBoundingClientRect().right;
      return Array.from(el.querySelectorAll('select, label, p')).filter((c) => c.getBoundingClientRect().right > right + 0.5).map((c) => c.textContent?.slice(0, 30));
    });
    expect(outside).toEqual([]);
  });

  test('no page is wider than the screen: records, the clinician report, the patient view, a batch, the model card', async ({ page }) => {
    // wide tables scroll inside their own box; the page itself never scrolls sideways
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.goto(`${APP}#/records`);
    await page.getByTestId('import-input').setInputFiles({ name: 'a.funduslens.json', mimeType: 'application/json', buffer: await exportFileWithOneRecord(page.request, 'PHONE-1') });
    await expect(page.getByTestId('records-table')).toBeVisible();
    expect(await overflow(), 'records').toBeLessThanOrEqual(0);
    await page.getByRole('row', { name: /PHONE-1/ }).getByRole('link').first().click();
    await expect(page.getByTestId('annotated-photo')).toBeVisible();
    expect(await overflow(), 'clinician report').toBeLessThanOrEqual(0);
    const photo = await box(page.getByTestId('annotated-photo'));
    expect(photo.x + photo.width).toBeLessThanOrEqual(390);
    // printed, the findings table is not cut by its scroll box (paper does not scroll)
    await page.emulateMedia({ media: 'print' });
    expect(await page.getByRole('region', { name: 'Findings, label by label' }).evaluate((el) => getComputedStyle(el).overflowX)).toBe('visible');
    await page.emulateMedia({ media: 'screen' });
    await page.getByRole('link', { name: 'Patient view' }).click();
    await expect(page.getByTestId('annotated-photo')).toBeVisible();
    expect(await overflow(), 'patient view').toBeLessThanOrEqual(0);
    await page.goto(`${APP}#/batch`);
    const sample = await (await page.request.get('/samples/01-healthy-macula.jpg')).body();
    await page.getByTestId('batch-files').setInputFiles([{ name: 'a-rather-long-file-name-from-the-camera-0001.jpg', mimeType: 'image/jpeg', buffer: sample }]);
    await expect(page.getByTestId('batch-row')).toHaveCount(1);
    expect(await overflow(), 'batch').toBeLessThanOrEqual(0);
    await page.goto(`${APP}#/model`);
    await expect(page.getByRole('heading', { name: 'Labels and decision thresholds' })).toBeVisible();
    expect(await overflow(), 'model card').toBeLessThanOrEqual(0);
  });
});

test.describe('320 px wide (WCAG 1.4.10 reflow: 1280 px at 400 % zoom)', () => {
  test.use({ viewport: { width: 320, height: 640 } });

  test('the analyse page with a result and the model card with its ROC plots are no wider than the screen', async ({ page }) => {
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.goto(APP);
    await openSample(page, 'All four lesion types');
    expect(await overflow(), 'analyse').toBeLessThanOrEqual(0);
    await page.goto(`${APP}#/model`);
    const plot = page.locator('.rocs img').first();
    await expect(plot).toBeVisible();
    await expect.poll(() => plot.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(await overflow(), 'model card').toBeLessThanOrEqual(0);
  });
});

test.describe('laptop (1366 × 768)', () => {
  test.use({ viewport: { width: 1366, height: 768 } });

  test('three columns: the record form right under the result, beside the photo; the intended use in full', async ({ page }) => {
    await page.goto(APP);
    const note = page.getByTestId('disclaimer');
    await expect(note.locator('.intended-use')).toContainText('not a medical device', { ignoreCase: true });
    await expect(note.getByRole('button', { name: 'Show all' })).toBeHidden();
    await openSample(page, 'All four lesion types');
    const result = await box(page.getByRole('region', { name: 'Result' }));
    const photo = await box(page.getByTestId('photo-layer'));
    const record = await box(page.getByRole('region', { name: 'Save as record' }));
    expect(result.x).toBeGreaterThan(photo.x + photo.width);
    expect(record.x).toBeCloseTo(result.x, 0);
    // packed under the result: the photo column's height does not push it down
    expect(record.y).toBeGreaterThanOrEqual(result.y + result.height);
    expect(record.y).toBeLessThan(result.y + result.height + 40);
  });
});
