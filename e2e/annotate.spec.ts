import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { expect, test, type Page } from '@playwright/test';
import { APP } from './helpers';

/**
 * Issue 7, element annotation: label photos with the keyboard, reload and resume, export
 * labels.csv and train on it with `npm run train`; consensus of three annotators; model
 * suggestions (off by default). Photos are the bundled synthetic samples under odd names.
 */
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const sample = (f: string) => readFile(join(ROOT, 'public/samples', f));
const NAMES = ['odd, "name" 视网膜.jpg', 'healthy one.jpg', 'haem + ma.jpg', 'cws.jpg'];
const SOURCES = ['04-hard-exudates.jpg', '01-healthy-macula.jpg', '03-haemorrhages.jpg', '05-cotton-wool-spots.jpg'];
const run = promisify(execFile);

async function openSet(page: Page, annotator: string): Promise<Buffer[]> {
  await page.goto(`${APP}#/annotate`);
  await expect(page.getByTestId('annotate-page')).toBeVisible();
  await page.getByTestId('ann-name').fill(annotator);
  const buffers = await Promise.all(SOURCES.map(sample));
  await page.getByTestId('ann-file-input').setInputFiles(NAMES.map((name, i) => ({ name, mimeType: 'image/jpeg', buffer: buffers[i] })));
  await expect(page.getByTestId('ann-progress')).toContainText('Photo 1 of 4');
  await expect(page.getByTestId('ann-photo')).toBeVisible();
  return buffers;
}

const box = (page: Page, l: string) => page.getByTestId(`ann-check-${l}`);

// WCAG 2.1 A/AA scan with axe-core, as a11y.spec.ts does for the other screens
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run({ include: ['main'] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} @ ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
}

test.describe('accessibility', () => {
  test.use({ bypassCSP: true }); // axe is injected as an inline script
  test('annotate screens (set list, labelling with the standard open, consensus): no WCAG A/AA violations (axe-core)', async ({ page }) => {
    await page.goto(`${APP}#/annotate`);
    await expect(page.getByTestId('ann-name')).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
    await openSet(page, 'Dr. Axe');
    await page.keyboard.press('2');
    await page.keyboard.press('d');
    await expect(page.getByTestId('ann-standard').locator('img').first()).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('tab', { name: 'Consensus' }).click();
    const csv = (who: string, rows: string[]) => ({ name: `${who}.csv`, mimeType: 'text/csv', buffer: Buffer.from(`image,ma,hm,hex,cws,healthy\n${rows.join('\n')}\n`) });
    await page.getByTestId('ann-csv-input').setInputFiles([csv('A', ['a.jpg,1,0,0,0,0', 'b.jpg,0,0,0,0,1']), csv('B', ['a.jpg,0,0,0,0,1', 'b.jpg,0,0,0,0,1'])]);
    await expect(page.getByTestId('ann-disagreements')).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
  });
});

test('annotate with keys, resume after reload, export labels.csv, and `npm run train` reads it', async ({ page }) => {
  test.setTimeout(300_000);
  const buffers = await openSet(page, 'Dr. E2E, "QA"');
  // suggestions are off by default (anchoring bias) and nothing is pre-filled
  await expect(page.getByTestId('ann-suggestions-toggle')).not.toBeChecked();
  await expect(page.getByTestId('ann-suggestion-note')).toHaveCount(0);
  for (const l of ['ma', 'hm', 'hex', 'cws', 'healthy']) await expect(box(page, l)).not.toBeChecked();

  // photo 1: hard exudates (+ a tick to undo)
  await page.keyboard.press('3');
  await page.keyboard.press('1');
  await page.keyboard.press('u');
  await expect(box(page, 'ma')).not.toBeChecked();
  await expect(box(page, 'hex')).toBeChecked();
  await expect(page.getByTestId('ann-status')).toHaveText('Labelled');
  // definitions with example pictures, one key away
  await page.keyboard.press('d');
  const std = page.getByTestId('ann-standard');
  await expect(std).toContainText('Cotton wool spots');
  await expect(std.locator('img')).toHaveCount(5);
  await expect.poll(() => std.locator('img').evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0))).toBe(true);
  await page.keyboard.press('d');
  await expect(std).toHaveCount(0);

  // photo 2: healthy; photo 3: haemorrhages + microaneurysms; healthy rule enforced
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('ann-progress')).toContainText('Photo 2 of 4');
  await page.keyboard.press('2');
  await page.keyboard.press('5');
  await expect(box(page, 'hm')).not.toBeChecked();
  await expect(box(page, 'healthy')).toBeChecked();
  await page.keyboard.press('n');
  await page.keyboard.press('1');
  await page.keyboard.press('2');
  await expect(page.getByTestId('ann-progress')).toContainText('3 of 4 labelled');
  await expect(box(page, 'hm')).toBeChecked();
  // Ticks are written to IndexedDB as they happen, asynchronously: a reload a few milliseconds
  // after the last key press could race that write. Wait until the store holds a record with
  // both ticks (what a user's reload seconds later would find), then reload.
  await expect
    .poll(() =>
      page.evaluate(
        () =>
          new Promise<boolean>((resolve) => {
            const open = indexedDB.open('funduslens-annotations');
            open.onerror = () => resolve(false);
            open.onsuccess = () => {
              const db = open.result;
              const req = db.transaction('records').objectStore('records').getAll();
              req.onsuccess = () => {
                const recs = req.result as { labels: Record<string, number> | null }[];
                db.close();
                resolve(recs.some((r) => r.labels?.ma === 1 && r.labels?.hm === 1));
              };
              req.onerror = () => resolve(false);
            };
          }),
      ),
    )
    .toBe(true);

  // reload: the same set, same photo, same ticks
  await page.reload();
  await expect(page.getByTestId('ann-progress')).toContainText('Photo 3 of 4');
  await expect(box(page, 'ma')).toBeChecked();
  await expect(box(page, 'hm')).toBeChecked();
  await expect(page.getByTestId('ann-annotator')).toHaveValue('Dr. E2E, "QA"');
  await page.keyboard.press('p');
  await page.keyboard.press('p');
  await expect(page.getByTestId('ann-progress')).toContainText('Photo 1 of 4');
  await expect(box(page, 'hex')).toBeChecked();

  // photo 4: the annotator cannot grade it (key 0) → exported with gradable=0 and unknown labels
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('ann-progress')).toContainText('Photo 4 of 4');
  await page.keyboard.press('0');
  await expect(page.getByTestId('ann-check-ungradable')).toBeChecked();
  await expect(page.getByTestId('ann-progress')).toContainText('4 of 4 labelled');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ann-export').click()]);
  expect(download.suggestedFilename()).toBe('labels.csv');
  await expect(page.getByText(/^Exported 4 photos\.$/)).toBeVisible();
  const dir = await mkdtemp(join(tmpdir(), 'fl-e2e-annotate-'));
  try {
    await download.saveAs(join(dir, 'labels.csv'));
    const csv = await readFile(join(dir, 'labels.csv'), 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('image,ma,hm,hex,cws,healthy,gradable,annotator,labelled_at,updated_at,seconds,suggested,matches_suggestion');
    expect(lines[1]).toMatch(/^"odd, ""name"" 视网膜\.jpg",0,0,1,0,0,1,"Dr\. E2E, ""QA""",\d{4}-/);
    expect(lines[2]).toMatch(/^healthy one\.jpg,0,0,0,0,1,1,/);
    expect(lines[3]).toMatch(/^haem \+ ma\.jpg,1,1,0,0,0,1,/);
    expect(lines[4]).toMatch(/^cws\.jpg,,,,,,0,/);
    expect(lines).toHaveLength(5);
    // the photos next to it, as a clinic would copy them: images/<name>
    await mkdir(join(dir, 'images'));
    await Promise.all(NAMES.map((n, i) => writeFile(join(dir, 'images', n), buffers[i])));
    const out = join(dir, 'run');
    const { stdout } = await run(
      'npm',
      ['run', 'train', '--', '--data', dir, '--out', out, '--epochs', '1', '--stage1-epochs', '1', '--size', '32', '--width', '2', '--blocks', '1', '--batch', '2', '--backend', 'cpu', '--no-augment', '--no-disk-cache'],
      { cwd: ROOT, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toMatch(/epoch 1\/1/);
    expect(stdout).toMatch(/1 item\(s\) marked gradable=0 left out/);
    expect((await stat(join(out, 'model', 'metadata.json'))).isFile()).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('consensus: three annotators’ files → Fleiss κ per label, disagreements adjudicated, consensus labels.csv', async ({ page }) => {
  await page.goto(`${APP}#/annotate`);
  await page.getByRole('tab', { name: 'Consensus' }).click();
  const header = 'image,ma,hm,hex,cws,healthy,annotator\n';
  // cws ticks per photo: 3, 0, 2, 1 of 3 → Fleiss κ = 1/3 (hand-computed, see consensus.test.ts)
  const files = [
    ['A', ['1,0,0,1,0', '0,0,0,0,1', '0,0,0,1,0', '0,0,0,0,1']],
    ['B', ['1,0,0,1,0', '0,0,0,0,1', '0,0,0,1,0', '0,0,0,1,0']],
    ['C', ['0,0,0,1,0', '0,0,0,0,1', '0,0,0,0,1', '0,0,0,0,1']],
  ].map(([who, rows]) => ({
    name: `labels-${who as string}.csv`,
    mimeType: 'text/csv',
    buffer: Buffer.from(header + (rows as string[]).map((r, i) => `"p ${i}, x.jpg",${r},${who as string}`).join('\n') + '\n'),
  }));
  await page.getByTestId('ann-csv-input').setInputFiles(files);
  await expect(page.getByTestId('ann-raters').locator(':scope > li')).toHaveCount(3);
  await expect(page.getByTestId('kappa-cws')).toHaveText('0.333');
  await expect(page.getByTestId('ann-agreement')).toContainText('Fleiss’ κ');
  // disagreements: p 0 ma (2 of 3), p 2 cws (2 of 3), p 3 cws (1 of 3)
  const dis = page.getByTestId('ann-disagreements');
  await expect(dis.locator('tbody tr')).toHaveCount(3);
  // the adjudicator can open the photos to see what is disputed
  await page.getByTestId('ann-consensus-photos').setInputFiles([{ name: 'p 3, x.jpg', mimeType: 'image/jpeg', buffer: await sample('05-cotton-wool-spots.jpg') }]);
  const thumb = dis.getByRole('img', { name: 'Photo to annotate: p 3, x.jpg' });
  await expect(thumb).toBeVisible();
  await expect.poll(() => thumb.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
  // adjudicate p 3's cws as present against the majority
  await dis.getByRole('group', { name: 'p 3, x.jpg cws' }).getByRole('button', { name: 'Present' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ann-consensus-export').click()]);
  const dir = await mkdtemp(join(tmpdir(), 'fl-e2e-consensus-'));
  try {
    await download.saveAs(join(dir, 'labels.csv'));
    const lines = (await readFile(join(dir, 'labels.csv'), 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('image,ma,hm,hex,cws,healthy,annotators,rule,adjudicated,votes_ma,votes_hm,votes_hex,votes_cws');
    expect(lines[1]).toBe('"p 0, x.jpg",1,0,0,1,0,3,majority,,2/3,0/3,0/3,3/3');
    expect(lines[2]).toBe('"p 1, x.jpg",0,0,0,0,1,3,majority,,0/3,0/3,0/3,0/3');
    expect(lines[3]).toBe('"p 2, x.jpg",0,0,0,1,0,3,majority,,0/3,0/3,0/3,2/3');
    expect(lines[4]).toBe('"p 3, x.jpg",0,0,0,1,0,3,majority,cws,0/3,0/3,0/3,1/3');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('model suggestions when switched on: pre-filled, marked, and a label only after Enter', async ({ page }) => {
  test.setTimeout(240_000);
  await openSet(page, 'Dr. S');
  await page.getByTestId('ann-suggestions-toggle').check();
  // the analysis worker runs the bundled model on the photo (maps off)
  await expect(page.getByTestId('ann-suggestion-note')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('ann-labels')).toHaveClass(/ann-suggested/);
  // an untrained placeholder bundle is called out next to its suggestions
  const meta = JSON.parse(await readFile(join(ROOT, 'dist/models/demo/metadata.json'), 'utf8')) as { training?: { placeholder?: boolean } };
  await expect(page.getByTestId('ann-placeholder-model')).toHaveCount(meta.training?.placeholder ? 1 : 0);
  await expect(page.getByTestId('ann-status')).toHaveText('Not labelled yet');
  const shown = await Promise.all(['ma', 'hm', 'hex', 'cws', 'healthy'].map((l) => box(page, l).isChecked()));
  expect(shown.filter(Boolean).length).toBeGreaterThan(0);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('ann-suggestion-note')).toHaveCount(0);
  await expect(page.getByTestId('ann-status')).toHaveText('Labelled');
  const kept = await Promise.all(['ma', 'hm', 'hex', 'cws', 'healthy'].map((l) => box(page, l).isChecked()));
  expect(kept).toEqual(shown);
  // the setting survives a reload
  await page.reload();
  await expect(page.getByTestId('ann-suggestions-toggle')).toBeChecked();
});
