import { expect, test, type Locator } from '@playwright/test';
import { APP, openSample } from './helpers';

// Where things sit on a phone and on a clinic laptop: the verdict, the photo that explains it and the
// record form, and how much of the first screen the intended-use notice takes.

const box = async (l: Locator) => {
  const b = await l.boundingBox();
  if (!b) throw new Error('not laid out');
  return b;
};

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
