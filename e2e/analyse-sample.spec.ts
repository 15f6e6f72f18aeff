import { expect, test } from '@playwright/test';
import { APP, analyseAnywayIfNeeded, openSample, overlayPixels } from './helpers';

test('open a sample: verdict first, summary, probabilities with thresholds, model + backend, heat map and outlines drawn', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(APP);
  await openSample(page, /Analyse sample: All four lesion types/);
  await analyseAnywayIfNeeded(page);

  // the verdict comes before the summary in the reading order
  const order = await page.evaluate(() => {
    const v = document.querySelector('[data-testid=quality-verdict]')!;
    const s = document.querySelector('[data-testid=summary]')!;
    return Boolean(v.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  expect(order).toBe(true);
  await expect(page.getByTestId('summary')).toHaveText(/diabetic retinopathy|No signs/);

  const bars = page.getByRole('list', { name: 'Label probabilities' }).getByRole('img');
  await expect(bars).toHaveCount(5);
  await expect(bars.first()).toHaveAccessibleName(/BP\/MA: probability \d+%, threshold \d+%/);
  await expect(page.getByTestId('model-name')).toHaveText(/.+@.+/);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  await expect(page.getByText(/not a diagnosis/i).first()).toBeVisible();

  // per-stage timings in a details view
  await page.getByText('Timings per stage').click();
  await expect(page.getByRole('row', { name: /Running the model/ })).toBeVisible();
  // the photo kernels compiled in the worker under the app's CSP ('wasm-unsafe-eval'): not the silent JS fallback
  await expect(page.getByTestId('photo-kernels')).toHaveText('Photo stages: WebAssembly SIMD');
  // the analysis worker read the photo's pixels through WebCodecs (Chromium offers it; the canvas is the fallback)
  const analysisWorker = page.workers().find((w) => /analysis\.worker/.test(w.url()));
  expect(analysisWorker, 'the analysis worker').toBeTruthy();
  const routes = await analysisWorker!.evaluate(() => performance.getEntriesByName('funduslens:pixels').map((m) => (m as PerformanceMark).detail as string));
  expect(routes).toEqual(['webcodecs']); // the last photo's (the worker keeps one mark)
  // by default the photo checks run beside the model only with 4 or more cores (the next test forces them there)
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const qualityRow = page.getByRole('row', { name: /Checking photo quality/ });
  if (cores >= 4) await expect(qualityRow).toContainText(/\d+ ms, beside the model/);
  else await expect(qualityRow).not.toContainText('beside the model');

  // the overlay canvas really has pixels, and they are the overlay's: "None" + no outlines clears it
  await expect.poll(() => overlayPixels(page), { timeout: 10_000 }).toBeGreaterThan(500);
  await page.getByRole('radio', { name: 'None' }).check();
  await page.getByRole('checkbox', { name: 'Lesion outlines' }).uncheck();
  await expect.poll(() => overlayPixels(page)).toBe(0);
  // the combined map is computed on demand (lazy guided backprop), then kept
  await page.getByRole('radio', { name: 'Combined (all positive labels)' }).check();
  await expect(page.locator('[data-overlay-ready]')).toHaveAttribute('data-overlay-ready', 'combined', { timeout: 120_000 });
  await expect(page.getByTestId('details-status')).toHaveCount(0);
  await page.getByRole('radio', { name: 'Grad-CAM', exact: true }).check();
  await expect.poll(() => overlayPixels(page)).toBeGreaterThan(500);
  await page.getByRole('radio', { name: 'Guided Grad-CAM' }).check();
  await expect(page.locator('[data-overlay-ready]')).toHaveAttribute('data-overlay-ready', 'guided');
  await expect(page.getByTestId('details-status')).toHaveCount(0); // cached with the result: no second pass
  await page.getByRole('radio', { name: 'Grad-CAM', exact: true }).check();

  // original vs preprocessed view changes the photo layer
  const photoSum = () =>
    page.getByTestId('photo-layer').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let s = 0;
      for (let i = 0; i < d.length; i += 16) s += d[i] + d[i + 1] + d[i + 2];
      return s;
    });
  const before = await photoSum();
  await page.getByRole('radio', { name: 'Preprocessed (CLAHE)' }).check();
  await expect.poll(photoSum).not.toBe(before);
  expect(errors).toEqual([]);
});

test('lazy Guided Grad-CAM: the result shows without it; opening its view computes it (status, cancel, compute again), Grad-CAM needs none', async ({ page }) => {
  await page.goto(APP);
  await openSample(page, /Analyse sample: All four lesion types/);
  await analyseAnywayIfNeeded(page);
  const viewer = page.locator('[data-overlay-ready]');
  // verdict, scores and the Grad-CAM overlay are there; no guided-backprop stage was run
  await expect(viewer).toHaveAttribute('data-overlay-ready', 'gradcam');
  await page.getByText('Timings per stage').click();
  await expect(page.getByRole('row', { name: /Computing Grad-CAM maps/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /Computing fine-grained maps/ })).toHaveCount(0);

  await page.getByRole('radio', { name: 'Guided Grad-CAM' }).check();
  const status = page.getByTestId('details-status');
  await expect(status.getByRole('status')).toHaveText(/Computing the fine-grained maps/);
  await status.getByRole('button', { name: 'Cancel' }).click();
  await expect(status.getByRole('status')).toHaveText('The fine-grained maps were not computed.');
  await expect(viewer).toHaveAttribute('data-overlay-ready', '');
  await status.getByRole('button', { name: 'Compute them' }).click();
  await expect(viewer).toHaveAttribute('data-overlay-ready', 'guided', { timeout: 120_000 });
  await expect(status).toHaveCount(0);
  // the stage now shows up in the timings of this result
  await expect(page.getByRole('row', { name: /Computing fine-grained maps/ })).toBeVisible();
  await page.getByRole('radio', { name: 'Combined (all positive labels)' }).check();
  await expect(viewer).toHaveAttribute('data-overlay-ready', 'combined');
});

test('HiResCAM picked in settings: the result carries it (overlay, guided view, model line), switching back offers a re-analysis', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(APP);
  await page.locator('details.settings > summary').click();
  await expect(page.getByTestId('cam-select')).toHaveValue('gradcam'); // the paper's method by default
  await page.getByTestId('cam-select').selectOption('hirescam');
  await openSample(page, /Analyse sample: All four lesion types/);
  await analyseAnywayIfNeeded(page);

  const viewer = page.locator('[data-overlay-ready]');
  await expect(viewer).toHaveAttribute('data-overlay-ready', 'gradcam');
  await expect(viewer).toHaveAttribute('data-cam', 'hirescam');
  await expect(page.getByRole('radio', { name: 'HiResCAM', exact: true })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Grad-CAM', exact: true })).toHaveCount(0);
  await expect(page.getByTestId('cam-method')).toHaveText('HiResCAM');
  await expect.poll(() => overlayPixels(page), { timeout: 10_000 }).toBeGreaterThan(500);
  await page.getByText('Timings per stage').click();
  await expect(page.getByRole('row', { name: /Computing HiResCAM maps/ })).toBeVisible();
  await expect(page.getByTestId('cam-differs')).toHaveCount(0);

  // eq. 3 on HiResCAM: computed on demand like Guided Grad-CAM
  await page.getByRole('radio', { name: 'Guided HiResCAM' }).check();
  await expect(viewer).toHaveAttribute('data-overlay-ready', 'guided', { timeout: 120_000 });
  await expect.poll(() => overlayPixels(page)).toBeGreaterThan(500);

  // back to Grad-CAM in settings: the shown maps keep their name until re-analysed
  await page.getByTestId('cam-select').selectOption('gradcam');
  await expect(page.getByRole('radio', { name: 'Guided HiResCAM' })).toBeChecked();
  await expect(page.getByTestId('cam-differs')).toContainText('made with HiResCAM');
  await page.getByRole('button', { name: 'Re-analyse with Grad-CAM' }).click();
  await expect(page.getByTestId('cam-method')).toHaveText('Grad-CAM', { timeout: 150_000 });
  await expect(viewer).toHaveAttribute('data-cam', 'gradcam');
  await expect(page.getByRole('radio', { name: 'Guided Grad-CAM' })).toBeChecked();
  await expect(page.getByTestId('cam-differs')).toHaveCount(0);
  await expect(viewer).toHaveAttribute('data-overlay-ready', 'guided', { timeout: 120_000 });
  expect(errors).toEqual([]);
});

test('several photos at once are queued and each gets a result', async ({ page }) => {
  await page.goto(APP);
  const get = async (file: string) => (await page.request.get(`/samples/${file}`)).body();
  await page.locator('#file-input').setInputFiles([
    { name: 'first.jpg', mimeType: 'image/jpeg', buffer: await get('01-healthy-macula.jpg') },
    { name: 'second.jpg', mimeType: 'image/jpeg', buffer: await get('04-hard-exudates.jpg') },
  ]);
  const queue = page.getByRole('region', { name: 'Queue' });
  await expect(queue.getByRole('button', { name: /^first\.jpg/ })).toBeVisible();
  await expect(queue.getByText(/^done/)).toHaveCount(2, { timeout: 150_000 });
  await queue.getByRole('button', { name: /^second\.jpg/ }).click();
  await expect(page.getByTestId('summary')).toBeVisible();
});

test('paste and drag-and-drop add photos to the queue', async ({ page }) => {
  await page.goto(APP);
  const bytes = [...(await (await page.request.get('/samples/02-microaneurysms.jpg')).body())];
  await page.evaluate((b) => {
    const file = new File([new Uint8Array(b)], 'clipboard.jpg', { type: 'image/jpeg' });
    const dt = new DataTransfer();
    dt.items.add(file);
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, bytes);
  const queue = page.getByRole('region', { name: 'Queue' });
  await expect(queue.getByRole('button', { name: /^clipboard\.jpg/ })).toBeVisible();
  await page.evaluate((b) => {
    const file = new File([new Uint8Array(b)], 'dropped.jpg', { type: 'image/jpeg' });
    const dt = new DataTransfer();
    dt.items.add(file);
    const target = document.querySelector('.dropzone')!;
    for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes);
  await expect(queue.getByRole('button', { name: /^dropped\.jpg/ })).toBeVisible();
  await expect(queue.getByText(/^done/)).toHaveCount(2, { timeout: 150_000 });
});

test('the photo checks in their own worker beside the model give the same result as in the analysis worker, ungradable photos included', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const seen: Record<string, { bars: string[]; verdict: string; dark: string; beside: boolean }> = {};
  for (const mode of ['inline', 'worker']) {
    await page.goto(`${APP}&photo-checks=${mode}`);
    await openSample(page, /Analyse sample: All four lesion types/);
    const bars = await page.getByRole('list', { name: 'Label probabilities' }).getByRole('img').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    const verdict = (await page.getByTestId('quality-verdict').innerText()).trim();
    await page.getByText('Timings per stage').click();
    const beside = (await page.getByRole('row', { name: /Checking photo quality/ }).innerText()).includes('beside the model');
    // a photo the gate refuses is refused the same way while the model is already running
    await openSample(page, /Analyse sample: Too dark to grade/);
    await expect(page.getByTestId('summary')).toHaveText(/Ungradable/, { timeout: 60_000 });
    const dark = (await page.getByTestId('summary').innerText()).trim();
    seen[mode] = { bars, verdict, dark, beside };
  }
  expect(seen.worker.beside).toBe(true);
  expect(seen.inline.beside).toBe(false);
  expect(seen.worker.bars).toEqual(seen.inline.bars);
  expect(seen.worker.bars).toHaveLength(5);
  expect(seen.worker.verdict).toBe(seen.inline.verdict);
  expect(seen.worker.dark).toBe(seen.inline.dark);
  expect(errors).toEqual([]);
});
