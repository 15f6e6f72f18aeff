/**
 * `npx tsx bench/app-coldstart.ts`: the real app's cold start in Chromium, with stage times.
 * A script that prints numbers; it never passes or fails on time.
 *
 *   npx tsx bench/app-coldstart.ts [--backends wasm,webgl,webgpu] [--runs 3] [--no-build] [--samples 1,6] [--out file.json]
 *                                  [--apps before=bench/out/app-base,after=bench/out/app] [--idle-ms 20000] [--no-settle]
 *
 * Each run opens a new window and first waits until the browser's own processes are quiet (lib/settle.ts:
 * Chromium 156 spends ~1.4 s of CPU on a new window's top-chrome WebUI); `--no-settle` navigates at once.
 *
 * `--idle-ms N` waits N ms after the sample button shows before clicking it: what a user who opens the app and
 * then picks a photo sees, once the idle warm-up (worker: scheduleWarmup) has run.
 *
 * `--apps` compares builds in ONE run, interleaved run by run (this machine's load drifts too
 * much for numbers from different runs to be compared); without it, the current tree is built
 * into bench/out/app and measured. A query after the folder is added to the app's URL, so one build can
 * be compared with itself under another setting: `--apps inline=bench/out/app?photo-checks=inline,helper=bench/out/app?photo-checks=worker`.
 *
 * Per run: a FRESH browser context (no HTTP cache, no service worker, no IndexedDB), the built
 * app (vite build → bench/out/app, served without caching), the sample button clicked as soon
 * as it shows, then:
 *   - navigation → sample button, click → verdict on screen, navigation → verdict (the goal: ≤ 2 s);
 *   - the analysis' own stage times (the result panel's timings table: decode, quality, preprocess,
 *     forward, Grad-CAM, guided backprop, outlines, total) and the model load / warm-up
 *     (performance marks of services/runner.ts, when the build has them);
 *   - "guided on demand": the Guided Grad-CAM view opened after the verdict → its map on screen;
 *   - a second, warm analysis (the next sample, same page): its stage times against the first
 *     show what the model warm-up at load left cold (kernels, shaders, JIT).
 * Samples: 1 = 01-healthy-macula (negative: no guided backprop even with maps 'all'),
 * 6 = 06-advanced (several positive labels: what lazy guided backprop saves).
 * Prints one line per run and the medians; `--out` writes the records as JSON.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { settleBrowser } from './lib/settle';

const ROOT = resolve(import.meta.dirname, '..');
const APP = join(ROOT, 'bench', 'out', 'app');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--enable-unsafe-webgpu'];
const MIME: Record<string, string> = { '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml', '.png': 'image/png', '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.bin': 'application/octet-stream', '.jpg': 'image/jpeg', '.css': 'text/css' };

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    backends: { type: 'string', default: 'wasm' },
    runs: { type: 'string', default: '3' },
    'no-build': { type: 'boolean', default: false },
    samples: { type: 'string', default: '1,6' },
    out: { type: 'string' },
    apps: { type: 'string' },
    'idle-ms': { type: 'string', default: '0' },
    'no-settle': { type: 'boolean', default: false },
  },
});

const load1 = () => Math.round(loadavg()[0] * 100) / 100;
const log = (s: string) => process.stdout.write(`${s}\n`);

interface Run {
  app: string;
  backend: string;
  sample: number;
  loadavg1: number;
  navToButtonMs: number;
  clickToResultMs: number;
  navToResultMs: number;
  /** the result panel's timings table, stage label → ms */
  stagesMs: Record<string, number>;
  /** performance marks of the app (name → ms since navigation), when present */
  marks: Record<string, number>;
  /** Guided Grad-CAM view chosen after the verdict → its map drawn (null: this build has no ready flag) */
  guidedOnDemandMs: number | null;
  /** stage times of a second analysis on the same page (the next sample) */
  warmStagesMs?: Record<string, number>;
  error?: string;
}

/** The result panel's timings table, stage label → ms. */
const readStages = () => {
  const out: Record<string, number> = {};
  for (const tr of document.querySelectorAll('table.timings tr')) {
    const k = tr.querySelector('th')?.textContent?.trim() ?? '?';
    out[k] = Number((tr.querySelector('td')?.textContent ?? '').replace(/[^0-9.]/g, ''));
  }
  return out;
};

function serve(dir: string): Promise<{ close(): void; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = join(dir, normalize(path === '/' ? '/index.html' : path).replace(/^(\.\.[/\\])+/, ''));
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => ok({ close: () => server.close(), url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })),
  );
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  const apps: [string, string, string][] = flags.apps
    ? flags.apps.split(',').map((x) => {
        const [label, spec] = x.split(/=(.*)/s);
        const [dir, query = ''] = spec.split('?');
        return [label, resolve(ROOT, dir), query] as [string, string, string];
      })
    : [['app', APP, '']];
  if (!flags['no-build'] && !flags.apps) {
    log('vite build → bench/out/app …');
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', APP, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  const servers = await Promise.all(apps.map(async ([label, dir, query]) => ({ label, query, ...(await serve(dir)) })));
  const runs: Run[] = [];
  log(`chromium ${browser.version()}, load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  try {
    for (const backend of flags.backends!.split(',')) {
      for (const sampleNo of flags.samples!.split(',').map(Number))
      for (let i = 0; i < Number(flags.runs); i++)
      for (const { label: app, url, query } of servers) {
        const sampleIndex = sampleNo - 1;
        const loadavg1 = load1();
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await ctx.newPage();
        try {
          // the new window's own start-up (Chromium's top-chrome WebUI) first: lib/settle.ts
          if (!flags['no-settle']) await settleBrowser();
          await page.goto(`${url}?backend=${backend}${query ? `&${query}` : ''}`);
          const sample = page.getByRole('button', { name: /^Analyse sample: / }).nth(sampleIndex);
          await sample.waitFor({ timeout: 60_000 });
          if (Number(flags['idle-ms']) > 0) await page.waitForTimeout(Number(flags['idle-ms']));
          const clickAt = (await page.evaluate(() => performance.now())) as number;
          await sample.click();
          const doneAt = (await (
            await page.waitForFunction(() => (document.querySelector('[data-testid=summary]') ? performance.now() : 0), undefined, { timeout: 600_000, polling: 20 })
          ).jsonValue()) as number;
          const stagesMs = (await page.evaluate(readStages)) as Record<string, number>;
          const marks = (await page.evaluate(() => {
            const out: Record<string, number> = {};
            for (const m of performance.getEntriesByType('mark') as PerformanceMark[]) {
              if (!m.name.startsWith('funduslens:')) continue;
              out[m.name.slice(11)] = Math.round(m.startTime);
              const d = m.detail as { loadMs?: number; warmupMs?: number } | null;
              if (d?.loadMs !== undefined) out['worker init (load+warm-up)'] = Math.round(d.loadMs);
              if (d?.warmupMs !== undefined) out['of which warm-up'] = Math.round(d.warmupMs);
            }
            return out;
          })) as Record<string, number>;
          // Guided Grad-CAM on demand: the viewer says when the chosen overlay's maps are there.
          let guidedOnDemandMs: number | null = null;
          const hasFlag = await page.locator('[data-overlay-ready]').count();
          if (hasFlag) {
            const t0 = (await page.evaluate(() => performance.now())) as number;
            await page.getByRole('radio', { name: 'Guided Grad-CAM' }).check();
            const t1 = (await (
              await page.waitForFunction(
                () => (document.querySelector('[data-overlay-ready]')?.getAttribute('data-overlay-ready') === 'guided' ? performance.now() : 0),
                undefined,
                { timeout: 600_000, polling: 20 },
              )
            ).jsonValue()) as number;
            guidedOnDemandMs = Math.round(t1 - t0);
          }
          // a second analysis on the warm page: the next sample
          await page.getByRole('radio', { name: 'Grad-CAM', exact: true }).check().catch(() => undefined);
          const next = page.getByRole('button', { name: /^Analyse sample: / }).nth(sampleIndex === 0 ? 1 : 0);
          await next.click();
          await page.waitForFunction(() => !document.querySelector('[data-testid=summary]'), undefined, { timeout: 60_000, polling: 5 }).catch(() => undefined);
          await page.waitForSelector('[data-testid=summary]', { timeout: 600_000 });
          const warmStagesMs = (await page.evaluate(readStages)) as Record<string, number>;
          const r: Run = {
            app,
            backend,
            sample: sampleNo,
            warmStagesMs,
            loadavg1,
            navToButtonMs: Math.round(clickAt),
            clickToResultMs: Math.round(doneAt - clickAt),
            navToResultMs: Math.round(doneAt),
            stagesMs,
            marks,
            guidedOnDemandMs,
          };
          runs.push(r);
          log(
            `${app} ${backend} sample ${sampleNo} run ${i + 1}: navigation → result ${r.navToResultMs} ms (→ button ${r.navToButtonMs}, click → result ${r.clickToResultMs}); ` +
              `stages ${JSON.stringify(stagesMs)}; marks ${JSON.stringify(marks)}; guided on demand ${guidedOnDemandMs ?? '–'} ms; warm ${JSON.stringify(warmStagesMs)}; load ${loadavg1}`,
          );
        } catch (e) {
          runs.push({ app, backend, sample: sampleNo, loadavg1, navToButtonMs: NaN, clickToResultMs: NaN, navToResultMs: NaN, stagesMs: {}, marks: {}, guidedOnDemandMs: null, error: (e as Error).message.split('\n')[0] });
          log(`${app} ${backend} sample ${sampleNo} run ${i + 1}: FAILED ${(e as Error).message.split('\n')[0]}`);
        } finally {
          await ctx.close();
        }
      }
      for (const sampleNo of flags.samples!.split(',').map(Number))
      for (const [app] of apps) {
        const ok = runs.filter((r) => r.app === app && r.backend === backend && r.sample === sampleNo && !r.error);
        if (!ok.length) continue;
        const stageNames = [...new Set(ok.flatMap((r) => Object.keys(r.stagesMs)))];
        const markNames = [...new Set(ok.flatMap((r) => Object.keys(r.marks)))];
        log(`${app} ${backend} sample ${sampleNo} medians over ${ok.length} runs: navigation → result ${median(ok.map((r) => r.navToResultMs))} ms, → button ${median(ok.map((r) => r.navToButtonMs))}, click → result ${median(ok.map((r) => r.clickToResultMs))}`);
        log(`  stages: ${stageNames.map((s) => `${s} ${Math.round(median(ok.map((r) => r.stagesMs[s])))}`).join(', ')}`);
        if (markNames.length) log(`  marks (ms since navigation): ${markNames.map((s) => `${s} ${Math.round(median(ok.map((r) => r.marks[s])))}`).join(', ')}`);
        const g = ok.map((r) => r.guidedOnDemandMs).filter((x): x is number => x !== null);
        if (g.length) log(`  Guided Grad-CAM on demand: ${median(g)} ms`);
        const warmNames = [...new Set(ok.flatMap((r) => Object.keys(r.warmStagesMs ?? {})))];
        log(`  second (warm) analysis: ${warmNames.map((s) => `${s} ${Math.round(median(ok.map((r) => r.warmStagesMs?.[s] ?? NaN)))}`).join(', ')}`);
        }
    }
  } finally {
    await browser.close();
    for (const x of servers) x.close();
  }
  if (flags.out) writeFileSync(flags.out, JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), runs }, null, 2));
}

await main();
