import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { APP } from './helpers';

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
});
