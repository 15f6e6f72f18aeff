import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { openSample } from './helpers';

/**
 * Update flow: version A is served and installed; the server then serves version B (the
 * same build with a changed version string in index.html and, as workbox would write it,
 * a new precache revision in sw.js). The app must offer "a new version is ready", must NOT
 * reload while a record form has unsaved edits, and must reload into B once it is saved.
 * A tiny static server on its own port: the service worker is per origin.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.webmanifest': 'application/manifest+json', '.wasm': 'application/wasm', '.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml', '.bin': 'application/octet-stream', '.map': 'application/json',
};

let server: Server;
let root = '';
let dirB = '';
const port = Number(process.env.E2E_UPDATE_PORT ?? 4191);
const dist = resolve(process.env.E2E_DIST ?? 'dist');

test.beforeAll(async () => {
  dirB = mkdtempSync(join(tmpdir(), 'funduslens-b-'));
  cpSync(dist, dirB, { recursive: true });
  const html = readFileSync(join(dirB, 'index.html'), 'utf8').replace('<head>', '<head>\n    <meta name="funduslens-build" content="B" />');
  writeFileSync(join(dirB, 'index.html'), html);
  const sw = readFileSync(join(dirB, 'sw.js'), 'utf8');
  const swB = sw.replace(/(url:"index\.html",revision:")[0-9a-f]+"/, '$1b0000000000000000000000000000b"');
  expect(swB).not.toBe(sw);
  writeFileSync(join(dirB, 'sw.js'), swB);
  root = dist;
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
});
test.afterAll(async () => {
  await new Promise((r) => server?.close(r));
  if (dirB) rmSync(dirB, { recursive: true, force: true });
});

test('a new version is offered, waits for the unsaved record, then reloads into it', async ({ page }) => {
  test.setTimeout(240_000);
  const base = `http://127.0.0.1:${port}`;
  await page.goto(`${base}/?backend=wasm`);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 60_000 }).toBe(true);
  await expect(page.locator('meta[name=funduslens-build]')).toHaveCount(0);

  // an analysed photo and a half-filled record form: unsaved work
  await openSample(page, /Analyse sample: Hard exudates/);
  const form = page.locator('section.save-record');
  await form.getByLabel('Patient identifier').fill('UPD-1');

  // the server now has version B; the page checks for it
  root = dirB;
  await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
  await expect(page.getByText('A new version of FundusLens is ready.')).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Reload to update' }).click();
  await expect(page.getByText('Will reload once the record you are editing is saved.')).toBeVisible();
  // still version A, the typed patient id still there
  await page.waitForTimeout(1500);
  await expect(form.getByLabel('Patient identifier')).toHaveValue('UPD-1');
  await expect(page.locator('meta[name=funduslens-build]')).toHaveCount(0);

  // saving the record releases the update: the page reloads into B, and the record survived
  await form.getByRole('radio', { name: 'Right eye (OD)' }).check();
  await form.getByRole('button', { name: 'Save record' }).click();
  await expect(page.locator('meta[name=funduslens-build]')).toHaveCount(1, { timeout: 60_000 });
  await page.getByRole('link', { name: 'Records', exact: true }).click();
  await expect(page.getByRole('row', { name: /UPD-1/ })).toBeVisible();
});

test('the reload never interrupts an analysis: it waits until the whole queue is done', async ({ page }) => {
  test.setTimeout(240_000);
  root = dist;
  const base = `http://127.0.0.1:${port}`;
  await page.goto(`${base}/?backend=wasm`);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 60_000 }).toBe(true);

  root = dirB;
  await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
  await expect(page.getByText('A new version of FundusLens is ready.')).toBeVisible({ timeout: 60_000 });

  // three photos queued; "reload" is clicked while the first is being analysed
  const get = async (f: string) => (await page.request.get(`${base}/samples/${f}`)).body();
  await page.locator('#file-input').setInputFiles([
    { name: 'one.jpg', mimeType: 'image/jpeg', buffer: await get('06-advanced.jpg') },
    { name: 'two.jpg', mimeType: 'image/jpeg', buffer: await get('04-hard-exudates.jpg') },
    { name: 'three.jpg', mimeType: 'image/jpeg', buffer: await get('03-haemorrhages.jpg') },
  ]);
  await expect(page.getByRole('button', { name: 'Cancel analysis', exact: true })).toBeVisible({ timeout: 30_000 });
  // what the queue looked like at the moment the page unloaded survives the reload
  await page.evaluate(() =>
    addEventListener('pagehide', () =>
      sessionStorage.setItem('queueAtUnload', JSON.stringify(Array.from(document.querySelectorAll('.queue-item'), (li) => li.className))),
    ),
  );
  await page.getByRole('button', { name: 'Reload to update' }).click();
  await expect(page.getByText('Will reload when the current analysis finishes.')).toBeVisible();
  await expect(page.locator('meta[name=funduslens-build]')).toHaveCount(0);

  await expect(page.locator('meta[name=funduslens-build]')).toHaveCount(1, { timeout: 180_000 });
  const atUnload = JSON.parse((await page.evaluate(() => sessionStorage.getItem('queueAtUnload'))) ?? '[]') as string[];
  expect(atUnload).toHaveLength(3);
  for (const c of atUnload) expect(c).toContain('status-done');
});
