import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { APP } from './helpers';

/**
 * Robustness suite in the app (issue 8): the awkward files of scripts/make-bad-inputs.ts fed
 * through the app's file input, each ending in a clear message or a result, the app still
 * working afterwards; and 50 analyses in a row with the worker's tensors back to baseline and
 * the heaps bounded. (The 12000×9000 photo is covered by errors.spec.ts.)
 */

interface BadInput {
  kind: string;
  file: string;
  mimeType: string;
  width: number;
  height: number;
  expect: 'error' | 'ok' | 'ungradable' | 'ok-or-error';
}

const ROOT = resolve(import.meta.dirname, '..');
let dir = '';
let inputs: BadInput[] = [];
const file = (e: BadInput) => ({ name: e.file, mimeType: e.mimeType, buffer: readFileSync(join(dir, e.file)) });

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'funduslens-e2e-bad-'));
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'make-bad-inputs.ts'), dir, '--no-huge'], { cwd: ROOT });
  inputs = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { inputs: BadInput[] }).inputs;
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const queueItem = (page: Page, name: string) => page.getByRole('region', { name: 'Queue' }).getByRole('button', { name: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) });

/** A coarse 16×16 luminance signature of a canvas (to compare what two photos show). */
async function signature(page: Page, testId: string): Promise<number[]> {
  return page.getByTestId(testId).evaluate((c: HTMLCanvasElement) => {
    const g = 16;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const out = new Array(g * g).fill(0);
    const n = new Array(g * g).fill(0);
    for (let y = 0; y < c.height; y += 2)
      for (let x = 0; x < c.width; x += 2) {
        const i = (y * c.width + x) * 4;
        const k = Math.floor((y * g) / c.height) * g + Math.floor((x * g) / c.width);
        out[k] += d[i] + d[i + 1] + d[i + 2];
        n[k]++;
      }
    return out.map((v, k) => v / Math.max(1, n[k]) / 3);
  });
}
const meanAbsDiff = (a: number[], b: number[]) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

test('every awkward file through the file input: a clear message or a result, EXIF shown upright; the app keeps working', async ({ page }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(APP);
  await page.locator('#file-input').setInputFiles(inputs.map(file));
  const queue = page.getByRole('region', { name: 'Queue' });
  await expect(queue.locator('[data-status=done], [data-status=error]')).toHaveCount(inputs.length, { timeout: 200_000 });

  const outcome: Record<string, string> = {};
  for (const e of inputs) {
    await queueItem(page, e.file).click();
    const status = await queueItem(page, e.file).locator('[data-status]').getAttribute('data-status');
    if (status === 'error') {
      const box = page.getByTestId('photo-error');
      await expect(box).toBeVisible();
      const text = (await box.innerText()).trim();
      expect(text.length, `${e.kind}: "${text}"`).toBeGreaterThan(40); // a sentence a clinician can act on
      outcome[e.kind] = `error:${await box.getAttribute('data-code')}`;
      // a file that is no usable photo: nothing to view, and no record form to keep it as a photo
      if (['invalid-image', 'decode-failed', 'image-too-small'].includes((await box.getAttribute('data-code')) ?? '')) {
        await expect(page.getByTestId('photo-layer'), e.kind).toHaveCount(0);
        await expect(page.getByRole('region', { name: 'Save as record' }), e.kind).toHaveCount(0);
      }
    } else {
      await expect(page.getByTestId('quality-verdict')).toBeVisible();
      outcome[e.kind] = `done:${await page.getByTestId('quality-verdict').innerText()}`.split('\n')[0];
    }
    if (e.expect === 'error') expect(status, e.kind).toBe('error');
    if (e.expect === 'ok' || e.expect === 'ungradable') expect(status, `${e.kind}: ${outcome[e.kind]}`).toBe('done');
  }
  test.info().annotations.push({ type: 'outcomes', description: JSON.stringify(outcome) });
  expect(outcome.empty).toMatch(/^error:/);
  expect(outcome['text-as-jpg']).toMatch(/^error:/);
  expect(outcome.tiny).toBe('error:image-too-small');

  // EXIF orientation: the rotated file shows (and is analysed) exactly like the upright control
  await queueItem(page, 'upright.jpg').click();
  await expect(page.getByTestId('summary')).toBeVisible();
  const photoUp = await signature(page, 'photo-layer');
  const overlayUp = await signature(page, 'overlay-layer');
  await queueItem(page, 'exif-rotated.jpg').click();
  await expect(page.getByTestId('summary')).toBeVisible();
  await expect.poll(async () => meanAbsDiff(await signature(page, 'photo-layer'), photoUp), { timeout: 10_000 }).toBeLessThan(6);
  expect(meanAbsDiff(await signature(page, 'overlay-layer'), overlayUp)).toBeLessThan(6);
  // …while a transposed photo would differ grossly (the check can fail)
  const transposed = photoUp.map((_, k) => photoUp[(k % 16) * 16 + Math.floor(k / 16)]);
  expect(meanAbsDiff(transposed, photoUp)).toBeGreaterThan(10);

  // still working: a bundled sample after all of that
  await page.getByRole('button', { name: /Analyse sample: Healthy retina/ }).click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 120_000 });
  expect(errors).toEqual([]);
});

/**
 * JS heap of the page's dedicated worker after a GC (HeapProfiler.collectGarbage), through a CDP session attached to it
 * (performance.memory does not exist in workers). null when the browser offers no such target.
 */
async function workerHeap(page: Page): Promise<number | null> {
  const cdp = await page.context().newCDPSession(page);
  const attached = new Promise<string | null>((ok) => {
    cdp.on('Target.attachedToTarget', (e) => {
      if (e.targetInfo.type === 'worker') ok(e.sessionId);
    });
    setTimeout(() => ok(null), 5_000);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const sessionId = await attached;
  if (!sessionId) return null;
  let id = 0;
  const waiting = new Map<number, (r: unknown) => void>();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message) as { id?: number; result?: unknown };
    if (m.id !== undefined) waiting.get(m.id)?.(m.result);
  });
  const call = (method: string) =>
    new Promise<unknown>((ok) => {
      const i = ++id;
      waiting.set(i, ok);
      void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: i, method, params: {} }) });
    });
  await call('HeapProfiler.collectGarbage');
  const r = (await call('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return r.usedSize;
}

interface WorkerMemory {
  numTensors: number;
  numBytes: number;
  heap: number | null;
}

test('50 analyses in a row: the worker returns to its tensor baseline; worker and page heaps, and the page\'s typed arrays with all 50 results queued, stay bounded', async ({ page }) => {
  test.setTimeout(300_000);
  const ref = inputs.find((i) => i.kind === 'reference')!;
  const bytes = readFileSync(join(dir, ref.file));
  await page.goto(APP);
  const queue = page.getByRole('region', { name: 'Queue' });
  await page.locator('#file-input').setInputFiles({ name: 'warm-up.jpg', mimeType: 'image/jpeg', buffer: bytes });
  await expect(queue.locator('[data-status=done]')).toHaveCount(1, { timeout: 120_000 });

  // the worker owns tfjs: read its engine through the global tfjs keeps (`_tfengine`)
  const worker = page.workers().find((w) => /analysis|worker/i.test(w.url())) ?? page.workers()[0];
  expect(worker, 'the analysis worker is running').toBeTruthy();
  const workerMemory = () =>
    worker.evaluate((): WorkerMemory => {
      const g = globalThis as unknown as { _tfengine?: { memory(): { numTensors: number; numBytes: number } }; performance: { memory?: { usedJSHeapSize: number } } };
      const m = g._tfengine!.memory();
      return { numTensors: m.numTensors, numBytes: m.numBytes, heap: g.performance.memory?.usedJSHeapSize ?? null };
    }).then(async (m) => ({ ...m, heap: m.heap ?? (await workerHeap(page)) }));
  const cdp = await page.context().newCDPSession(page);
  const pageHeap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  // typed arrays' memory (the results' maps, the preprocessed views) is outside the JS heap: Chromium reports it apart
  const pageArrayBuffers = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return ((await cdp.send('Runtime.getHeapUsage')) as { backingStorageSize?: number }).backingStorageSize ?? NaN;
  };
  // start from an empty queue so the page baseline holds no result
  await page.getByRole('button', { name: 'Clear' }).click();
  const w0 = await workerMemory();
  const p0 = await pageHeap();
  const b0 = await pageArrayBuffers();

  await page.locator('#file-input').setInputFiles(Array.from({ length: 50 }, (_, i) => ({ name: `run-${String(i + 1).padStart(2, '0')}.jpg`, mimeType: 'image/jpeg', buffer: bytes })));
  await expect(queue.locator('[data-status=done]')).toHaveCount(50, { timeout: 280_000 });
  const w1 = await workerMemory();
  const pFull = await pageHeap();
  const bFull = await pageArrayBuffers();
  await page.getByRole('button', { name: 'Clear' }).click();
  const p1 = await pageHeap();

  const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  test.info().annotations.push({
    type: 'memory',
    description: JSON.stringify({ worker: { before: w0, after: w1 }, pageHeapMb: { before: mb(p0), with50Results: mb(pFull), afterClear: mb(p1) }, pageArrayBuffersMb: { before: mb(b0), with50Results: mb(bFull) } }),
  });
  expect(w1.numTensors).toBe(w0.numTensors);
  expect(w1.numBytes).toBe(w0.numBytes);
  // Bounds, 8 MB each (measured: worker +0.8 MB, page +1.3 MB after Clear): the worker keeps at
  // most 2 decoded photos (a 640×480 RGBA photo is 1.2 MB) and nothing per analysis; the page
  // keeps results only while they are in the queue and must give them back on Clear.
  expect(w1.heap, 'worker heap measured through CDP').not.toBeNull();
  expect(w1.heap! - w0.heap!).toBeLessThan(8 * 2 ** 20);
  expect(p1 - p0).toBeLessThan(8 * 2 ** 20);
  // With the 50 results still in the queue, only the few photos the store keeps in memory (PHOTOS_IN_MEMORY = 4)
  // hold maps and a preprocessed view, ~5 MB each; the rest were shelved. Kept for all 50 it was ~250 MB.
  expect(Number.isFinite(bFull), 'Chromium reports backingStorageSize').toBe(true);
  expect(bFull - b0).toBeLessThan(40 * 2 ** 20);
});
