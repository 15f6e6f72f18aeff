import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { APP, overlayPixels } from './helpers';

test('batch screening: many files -> progress -> sortable results table -> open a row in the viewer -> CSV -> save as records', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(`${APP}#/batch`);
  const get = async (f: string) => (await page.request.get(`/samples/${f}`)).body();
  await page.getByTestId('batch-files').setInputFiles([
    { name: 'anna.jpg', mimeType: 'image/jpeg', buffer: await get('01-healthy-macula.jpg') },
    { name: 'bob.jpg', mimeType: 'image/jpeg', buffer: await get('07-ungradable-dark.jpg') },
    { name: 'carla.jpg', mimeType: 'image/jpeg', buffer: await get('06-advanced.jpg') },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') },
  ]);
  const rows = page.getByTestId('batch-row');
  await expect(rows).toHaveCount(3); // the text file is left out
  await expect(page.getByTestId('batch-progress')).toContainText('3 of 3 analysed', { timeout: 200_000 });

  // sort by file name, both directions
  const names = () => rows.locator('td:nth-child(2)').allInnerTexts();
  await page.getByRole('button', { name: 'Sort by File' }).click();
  expect(await names()).toEqual(['anna.jpg', 'bob.jpg', 'carla.jpg']);
  await page.getByRole('button', { name: 'Sort by File' }).click();
  expect(await names()).toEqual(['carla.jpg', 'bob.jpg', 'anna.jpg']);
  await expect(page.getByRole('columnheader', { name: /File/ })).toHaveAttribute('aria-sort', 'descending');

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const lines = readFileSync((await csv.path())!, 'utf8').trim().split('\r\n');
  expect(lines[0]).toContain('file,status,result');
  expect(lines).toHaveLength(4);
  expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['carla.jpg', 'bob.jpg', 'anna.jpg']);

  // no eye is ticked for a whole batch: saving waits for one
  await expect(page.getByRole('button', { name: 'Save all as records' })).toBeDisabled();
  await expect(page.getByText('Choose the eye first.')).toBeVisible();
  await page.getByRole('radio', { name: 'Right eye (OD)' }).check();
  await page.getByRole('button', { name: 'Save all as records' }).click();
  await expect(page.getByText(/record\(s\) saved/)).toBeVisible();

  await page.getByRole('button', { name: 'Open bob.jpg in the viewer' }).click();
  await expect(page).toHaveURL(/#\/$/);
  await expect(page.getByTestId('quality-verdict')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Queue' }).getByRole('button', { name: /^bob\.jpg/ })).toHaveAttribute('aria-current', /true|page/);

  await page.getByRole('link', { name: 'Records', exact: true }).click();
  await expect(page.getByRole('row', { name: /anna/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /carla/ })).toBeVisible();
});

test('batch screening: a whole folder (webkitdirectory), sub-folders included, in path order', async ({ page }) => {
  test.setTimeout(300_000);
  const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'funduslens-clinic-'));
  mkdirSync(join(dir, 'monday'));
  writeFileSync(join(dir, 'monday', 'p2.jpg'), await (await page.request.get('/samples/02-microaneurysms.jpg')).body());
  writeFileSync(join(dir, 'p1.jpg'), await (await page.request.get('/samples/05-cotton-wool-spots.jpg')).body());
  writeFileSync(join(dir, 'readme.txt'), 'not a photo');
  await page.goto(`${APP}#/batch`);
  await page.getByTestId('batch-folder').setInputFiles(dir);
  const rows = page.getByTestId('batch-row');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('batch-progress')).toContainText('2 of 2 analysed', { timeout: 200_000 });
  await page.getByRole('button', { name: 'Sort by File' }).click();
  const names = await rows.locator('td:nth-child(2)').allInnerTexts();
  expect(names.map((n) => n.replace(/^[^/]*\//, ''))).toEqual(['monday/p2.jpg', 'p1.jpg']);
  // the file that is not a photo is named, not dropped silently
  await expect(page.getByTestId('batch-skipped')).toContainText(/1 file\(s\) left out: not photos \(.*readme\.txt\)/);

  // the same folder again after clearing, from the keyboard: the open buttons are real, focusable buttons
  await page.getByRole('button', { name: 'Clear the batch' }).click();
  await expect(page.getByText('No photos in this batch yet.')).toBeVisible();
  await expect(page.getByTestId('batch-skipped')).toHaveCount(0); // the note went with the batch
  await expect(page.getByRole('button', { name: 'Clear the batch' })).toBeDisabled();
  const open = page.getByRole('button', { name: 'Open a folder…' });
  await open.focus();
  await expect(open).toBeFocused();
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
  await chooser.setFiles(dir);
  await expect(rows).toHaveCount(2);
});

test('a long batch keeps only a few photos in memory: an older one is loaded again, with its heat map, when opened', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(`${APP}#/batch`);
  const get = async (f: string) => (await page.request.get(`/samples/${f}`)).body();
  const advanced = await get('06-advanced.jpg');
  const healthy = await get('01-healthy-macula.jpg');
  // six photos: the store keeps four in memory (the shown one, the batch's first, and the last three)
  await page.getByTestId('batch-files').setInputFiles(
    ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((n) => ({ name: `${n}.jpg`, mimeType: 'image/jpeg', buffer: n === 'p2' ? advanced : healthy })),
  );
  await expect(page.getByTestId('batch-progress')).toContainText('6 of 6 analysed', { timeout: 250_000 });
  const verdict = await page.getByTestId('batch-row').filter({ hasText: 'p2.jpg' }).getByTestId('batch-verdict').innerText();

  await page.getByRole('button', { name: 'Open p2.jpg in the viewer' }).click();
  // shelved: its pixels and maps were released, so it says it is loading them again
  await expect(page.getByTestId('restoring')).toBeVisible();
  await expect(page.getByTestId('restoring')).toBeHidden({ timeout: 120_000 });
  await expect(page.locator('.viewer')).toHaveAttribute('data-overlay-ready', 'gradcam');
  await expect.poll(() => overlayPixels(page)).toBeGreaterThan(100);
  const photoPixels = await page.getByTestId('photo-layer').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 30) n++;
    return n;
  });
  expect(photoPixels).toBeGreaterThan(10_000);
  // its result was kept while it was set aside: the verdict shows at once and stays the batch table's
  await expect(page.getByTestId('summary')).toBeVisible();
  await page.getByRole('link', { name: 'Batch', exact: true }).click();
  await expect(page.getByTestId('batch-row').filter({ hasText: 'p2.jpg' }).getByTestId('batch-verdict')).toHaveText(verdict);
});
