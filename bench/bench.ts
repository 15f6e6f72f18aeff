/**
 * `npm run bench`: measured speed of the whole analysis on every backend this machine offers.
 * A script that prints numbers; it never passes or fails on time.
 *
 *   npm run bench -- [--node-only | --browser-only] [--backends cpu,wasm,tensorflow,webgl,webgpu]
 *                    [--models demo,resnet50] [--runs 10] [--warmup-runs 10] [--app-trials 5] [--budget-s 450] [--k 1] [--allow-slow] [--quick] [--skip-app]
 *   npm run bench -- --render <results.json>     (the tables again from a stored run, nothing measured)
 *
 * Node: cpu, wasm and tensorflow (@tensorflow/tfjs-node, optional: skipped with a note when absent).
 * Chromium (Debian's /usr/bin/chromium through Playwright, headless): wasm, webgl, webgpu (SwiftShader
 * adapter with --enable-unsafe-webgpu). Models: the demo bundle (public/models/demo) and the
 * paper's ResNet50 at 512² with random weights (built once, cached in bench/out/models/resnet50).
 * Chromium also measures the real app's cold start (vite build, then navigation → first sample
 * result with the demo model, per backend; --skip-app leaves it out).
 * Writes bench/results.json and bench/results.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setupBackend } from '../src/core/backends/index';
import { decodeImage } from '../src/cli/decode';
import { fsBundleReader, fsBundleWriter } from '../src/cli/fs-bundle';
import { buildPaperResNet50 } from '../src/core/model/builders';
import { loadBundle, saveBundle } from '../src/core/model/bundle';
import { benchModel, coldStart, resnet50BenchMetadata, stats, type BenchRecord } from './lib/measure';
import { settleBrowser } from './lib/settle';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');
const PHOTO = join(OUT, 'photo.jpg');
const MODELS: Record<string, string> = { demo: join(ROOT, 'public', 'models', 'demo'), resnet50: join(OUT, 'models', 'resnet50') };
const NODE_BACKENDS = ['cpu', 'wasm', 'tensorflow'];
const BROWSER_BACKENDS = ['wasm', 'webgl', 'webgpu'];
/** Same flags as playwright.config.ts (Debian's Chromium, software WebGPU adapter). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--enable-unsafe-webgpu'];
/** Combinations that take many minutes per run on a 2-core machine without a GPU: skipped unless --allow-slow. */
const SLOW = new Set(['node:cpu:resnet50', 'chromium:webgl:resnet50', 'chromium:webgpu:resnet50']);

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    'node-only': { type: 'boolean', default: false },
    'browser-only': { type: 'boolean', default: false },
    backends: { type: 'string' },
    models: { type: 'string', default: 'demo,resnet50' },
    runs: { type: 'string', default: '10' },
    'warmup-runs': { type: 'string', default: '10' },
    'app-trials': { type: 'string', default: '5' },
    'budget-s': { type: 'string', default: '450' },
    k: { type: 'string', default: '1' },
    'allow-slow': { type: 'boolean', default: false },
    'skip-app': { type: 'boolean', default: false },
    render: { type: 'string' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0] + '*/\n');
  process.exit(0);
}
const runs = flags.quick ? 3 : Number(flags.runs);
const budgetMs = (flags.quick ? 30 : Number(flags['budget-s'])) * 1000;
const warmupRuns = flags.quick ? 1 : Number(flags['warmup-runs']);
/** fresh-context trials of the app's cold start on wasm and 'auto' (the software WebGL/WebGPU ones, 8-25 s each: 1) */
const appTrials = flags.quick ? 1 : Math.max(1, Number(flags['app-trials']));
const k = Number(flags.k);
const models = flags.models!.split(',').filter(Boolean);
const wantBackends = flags.backends ? flags.backends.split(',') : null;
for (const m of models) if (!MODELS[m]) throw new Error(`unknown model ${m} (known: ${Object.keys(MODELS).join(', ')})`);

type Side = 'node' | 'chromium';
interface Row extends Partial<BenchRecord> {
  side: Side;
  backend: string;
  model: string;
  skipped?: string;
  loadavg1: number;
  adapter?: string;
  navigationToFirstResultMs?: number;
}
const rows: Row[] = [];
const log = (s: string) => process.stdout.write(`${s}\n`);
const load1 = () => Math.round(loadavg()[0] * 100) / 100;

async function ensurePhoto(): Promise<void> {
  if (existsSync(PHOTO)) return;
  mkdirSync(OUT, { recursive: true });
  // Half an IDRiD frame (4288×2848): the decode and preprocess costs of a real-sized photo.
  // Drawn by training's synthetic fundus through the scripts/ generator (outside the TS projects).
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'make-bad-inputs.ts'), '--photo', '2144x1424', PHOTO], { cwd: ROOT, stdio: 'inherit' });
}

async function ensureResNet50(): Promise<void> {
  const dir = MODELS.resnet50;
  if (existsSync(join(dir, 'metadata.json'))) return;
  log('building the paper ResNet50 (512², random weights) once; cached in bench/out/models/resnet50 …');
  const prev = tf.getBackend();
  await tf.setBackend('cpu');
  const net = buildPaperResNet50({ inputSize: 512, seed: 3 });
  const demoMeta = JSON.parse(readFileSync(join(MODELS.demo, 'metadata.json'), 'utf8'));
  await saveBundle(
    net,
    resnet50BenchMetadata(demoMeta),
    fsBundleWriter(dir),
  );
  net.dispose();
  if (prev) await tf.setBackend(prev);
}

function wanted(side: Side, backend: string, model: string): string | null {
  if (wantBackends && !wantBackends.includes(backend)) return 'not selected';
  if (SLOW.has(`${side}:${backend}:${model}`) && !flags['allow-slow']) {
    return 'skipped by default: minutes per run on this CPU-only machine (--allow-slow runs it)';
  }
  return null;
}

async function nodeBench(): Promise<void> {
  for (const backend of NODE_BACKENDS) {
    if (wantBackends && !wantBackends.includes(backend)) continue;
    if (backend === 'tensorflow') {
      try {
        const name = '@tensorflow/tfjs-node';
        await import(/* @vite-ignore */ name);
      } catch {
        rows.push({ side: 'node', backend, model: '-', skipped: '@tensorflow/tfjs-node is not installed (optional dependency)', loadavg1: load1() });
        log('node/tensorflow: @tensorflow/tfjs-node not installed, skipped');
        continue;
      }
    }
    const got = await setupBackend([backend]);
    for (const model of models) {
      const skip = wanted('node', backend, model);
      if (skip) {
        rows.push({ side: 'node', backend: got, model, skipped: skip, loadavg1: load1() });
        log(`node/${got}/${model}: ${skip}`);
        continue;
      }
      log(`node/${got}/${model} (load ${load1()})`);
      const loadavg1 = load1();
      const { model: fm, cold } = await coldStart(() => loadBundle(fsBundleReader(MODELS[model]), { foldBatchNorm: true }), () => decodeImage(PHOTO), k);
      log(`  cold start ${Math.round(cold.totalMs)} ms (load ${Math.round(cold.loadMs)}, warm-up ${Math.round(cold.warmupMs)}, first analysis ${Math.round(cold.firstAnalysisMs)})`);
      const slowRuns = backend === 'cpu' ? Math.min(runs, 3) : runs;
      const rec = await benchModel(fm, () => decodeImage(PHOTO), { runs: slowRuns, budgetMs, k, warmupRuns: backend === 'cpu' ? Math.min(1, warmupRuns) : warmupRuns, log });
      fm.dispose();
      rows.push({ side: 'node', ...rec, model, cold, loadavg1 });
    }
  }
}

const MIME: Record<string, string> = { '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml', '.png': 'image/png', '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.bin': 'application/octet-stream', '.jpg': 'image/jpeg', '.css': 'text/css' };

/** Static server: the built page, the photo and /models/<name>/ from each bundle folder (or, with `plain`, just a folder: the built app). */
function serve(pageDir: string, plain = false): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file: string | null = null;
    const m = plain ? null : /^\/models\/([a-z0-9-]+)\/(.+)$/.exec(path);
    if (m && MODELS[m[1]]) file = join(MODELS[m[1]], normalize(m[2]).replace(/^(\.\.[/\\])+/, ''));
    else if (path === '/photo.jpg') file = PHOTO;
    else file = join(pageDir, normalize(path === '/' ? '/index.html' : path).replace(/^(\.\.[/\\])+/, ''));
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

async function browserBench(): Promise<void> {
  const pageDir = join(OUT, 'page');
  log('building the bench page (vite) …');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(ROOT, 'bench', 'page', 'vite.config.ts')], { cwd: ROOT, stdio: 'inherit' });
  const { chromium } = await import('playwright-core');
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const { server, url } = await serve(pageDir);
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  log(`chromium ${browser.version()}`);
  try {
    for (const backend of BROWSER_BACKENDS) {
      for (const model of models) {
        const skip = wanted('chromium', backend, model);
        if (skip) {
          if (skip !== 'not selected') log(`chromium/${backend}/${model}: ${skip}`);
          rows.push({ side: 'chromium', backend, model, skipped: skip, loadavg1: load1() });
          continue;
        }
        log(`chromium/${backend}/${model} (load ${load1()})`);
        const loadavg1 = load1();
        // a fresh context per combination: the cold start includes the bundle download and compile
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        await settleBrowser(); // the new window's own start-up first (lib/settle.ts)
        page.on('console', (m) => {
          if (/^ {2}run |^cold start|^backend/.test(m.text())) log(`  ${m.text()}`);
        });
        try {
          await page.goto(`${url}?backend=${backend}&model=${model}&runs=${runs}&warmup=${warmupRuns}&budget=${budgetMs / 1000}&k=${k}`);
          const h = await page.waitForFunction(() => window.__bench ?? (window.__benchError ? { error: window.__benchError } : undefined), undefined, {
            timeout: budgetMs * 3 + 600_000,
            polling: 500,
          });
          const rec = (await h.jsonValue()) as (BenchRecord & { adapter?: string; navigationToFirstResultMs: number }) | { error: string };
          if ('error' in rec) {
            rows.push({ side: 'chromium', backend, model, skipped: `failed: ${rec.error.split('\n')[0]}`, loadavg1 });
            log(`  FAILED: ${rec.error.split('\n')[0]}`);
          } else {
            rows.push({ side: 'chromium', ...rec, model, loadavg1 });
          }
        } catch (e) {
          rows.push({ side: 'chromium', backend, model, skipped: `failed: ${(e as Error).message.split('\n')[0]}`, loadavg1 });
          log(`  FAILED: ${(e as Error).message.split('\n')[0]}`);
        } finally {
          await ctx.close();
        }
      }
    }
    if (!flags['skip-app'] && models.includes('demo')) await appColdStart(browser);
  } finally {
    await browser.close();
    server.close();
  }
}

interface AppCold {
  backend: string;
  /** navigation start → the first sample's result on screen (the sample clicked as soon as it shows) */
  navigationToResultMs?: number;
  /** the button click → the result on screen (worker start, model load, warm-up, decode, analysis) */
  clickToResultMs?: number;
  /** the backend the app reports in use (for 'auto': what it picked on this machine) */
  used?: string;
  loadavg1: number;
  error?: string;
  /** every trial's navigation → result and click → result (ms), each in a fresh context; the fields above are their medians */
  trials?: { navigationToResultMs: number; clickToResultMs: number }[];
}
const appRows: AppCold[] = [];

/** The real app (vite build → served from bench/out/app): navigation → first sample result, demo model, fresh context per backend. */
async function appColdStart(browser: import('playwright-core').Browser): Promise<void> {
  const appDir = join(OUT, 'app');
  log('building the app for its cold start (vite build → bench/out/app) …');
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', appDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  } catch (e) {
    appRows.push({ backend: '-', loadavg1: load1(), error: `the app did not build: ${(e as Error).message.split('\n')[0]}` });
    return;
  }
  const { server, url } = await serve(appDir, true);
  try {
    // 'auto' first: what a user gets without choosing (the app passes over software-rendered GPUs, worker/gpu-probe.ts)
    for (const backend of ['auto', ...BROWSER_BACKENDS]) {
      if (wantBackends && !wantBackends.includes(backend)) continue;
      const loadavg1 = load1();
      const trials: { navigationToResultMs: number; clickToResultMs: number }[] = [];
      let used = '?';
      try {
        const n = backend === 'auto' || backend === 'wasm' ? appTrials : 1;
        for (let t = 0; t < n; t++) {
          const ctx = await browser.newContext();
          const page = await ctx.newPage();
          try {
            await settleBrowser(); // the new window's own start-up first (lib/settle.ts)
            await page.goto(`${url}?backend=${backend}`);
            const sample = page.getByRole('button', { name: /^Analyse sample: / }).first();
            await sample.waitFor({ timeout: 60_000 });
            const clickAt = await page.evaluate(() => performance.now());
            await sample.click();
            const doneAt = (await (
              await page.waitForFunction(() => (document.querySelector('[data-testid=summary]') ? performance.now() : 0), undefined, { timeout: 600_000, polling: 50 })
            ).jsonValue()) as number;
            used = (await page.getByTestId('backend').textContent())?.trim() ?? '?';
            trials.push({ navigationToResultMs: Math.round(doneAt), clickToResultMs: Math.round(doneAt - clickAt) });
            log(`app/${backend} trial ${t + 1}/${n}: navigation → first result ${Math.round(doneAt)} ms (click → result ${Math.round(doneAt - clickAt)} ms) on ${used}, load ${load1()}`);
          } finally {
            await ctx.close();
          }
        }
        const med = (v: number[]) => stats(v).median;
        appRows.push({
          backend,
          navigationToResultMs: Math.round(med(trials.map((t) => t.navigationToResultMs))),
          clickToResultMs: Math.round(med(trials.map((t) => t.clickToResultMs))),
          used,
          loadavg1,
          trials,
        });
      } catch (e) {
        appRows.push({ backend, loadavg1, error: (e as Error).message.split('\n')[0] });
        log(`app/${backend}: FAILED ${(e as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    server.close();
  }
}

// ------------------------------------------------------------------ report

const f0 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v >= 100 ? String(Math.round(v)) : v.toFixed(1));
const f2 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));
const ms = (s: { median: number; spread: number } | undefined) => (s ? `${f0(s.median)}` : '–');

interface Derived {
  /** F: the faster of the isolated forward and the analysis' forward stage (see derive) */
  forwardMs: number;
  forwardIsolatedMs: number;
  gflops: number;
  gradcam5OverF: number;
  gradcam5FastOverF?: number;
  /** forward + HiResCAM ×5 ÷ F (the app's alternative map; no goal of its own) */
  hirescam5OverF?: number;
  /** forward + Grad-CAM + guided stages of the whole analysis (no decode, quality gate, preprocess or outlines) ÷ floor */
  modelPartOverFloor: number;
  guided1OverF?: number;
  /** what one more guided map adds to an analysis (its forward shared), ÷ F; the floor counts 2 F */
  guidedPerLabelOverF?: number;
  totalOverF: number;
  floorMs: number;
  totalOverFloor: number;
  goals: { gradcam5: boolean; gradcam5Fast: boolean | null; guided: boolean | null; total: boolean; coldStart: boolean | null };
}

function derive(r: Row): Derived | null {
  if (!r.isolated || !r.stages?.total) return null;
  // F is the faster of two forward passes of the same model on the same backend: the isolated one (LayersModel.apply
  // in a tidy, which keeps every intermediate to the end) and the analysis' own forward stage (explain/guided-pass'
  // recorded forward, which frees each intermediate after its last reader, + the sigmoid read-back). In Chromium
  // the second is up to a third faster (wasm demo: 23 against 28–43 ms); dividing by the slower one would flatter
  // every ratio below, the whole-analysis floor most.
  const Fiso = r.isolated.forward.median;
  const Fana = r.stages.forward?.median;
  const F = Fana !== undefined && Fana > 0 ? Math.min(Fiso, Fana) : Fiso;
  const kk = r.kActual ?? 0;
  // the analysis' own timings: decode is not part of analyze(); total is analyze()'s total
  const total = r.stages.total.median;
  const floor = F * (1 + 2 * kk);
  const g1 = r.isolated.guided1 ? r.isolated.guided1.median / F : undefined;
  const modelPart = (r.stages.forward?.median ?? 0) + (r.stages.gradcam?.median ?? 0) + (r.stages.guidedBackprop?.median ?? 0);
  const cold = r.side === 'chromium' ? r.navigationToFirstResultMs : r.cold?.totalMs;
  return {
    forwardMs: F,
    forwardIsolatedMs: Fiso,
    gflops: (2 * (r.macs ?? 0)) / (F / 1000) / 1e9,
    gradcam5OverF: r.isolated.gradcam5.median / F,
    gradcam5FastOverF: r.isolated.gradcam5Fast ? r.isolated.gradcam5Fast.median / F : undefined,
    hirescam5OverF: r.isolated.hirescam5 ? r.isolated.hirescam5.median / F : undefined,
    modelPartOverFloor: modelPart / floor,
    guided1OverF: g1,
    guidedPerLabelOverF: r.isolated.guidedPerLabel ? r.isolated.guidedPerLabel.median / F : undefined,
    totalOverF: total / F,
    floorMs: floor,
    totalOverFloor: total / floor,
    goals: {
      gradcam5: r.isolated.gradcam5.median <= 1.3 * F,
      gradcam5Fast: r.isolated.gradcam5Fast ? r.isolated.gradcam5Fast.median <= 1.3 * F : null,
      guided: g1 === undefined ? null : g1 <= 2.5,
      total: total <= 1.2 * floor,
      coldStart: r.side === 'chromium' && r.model.startsWith('demo') && cold !== undefined ? cold <= 2000 : null,
    },
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function report(machine: Record<string, unknown>): string {
  const yn = (b: boolean | null | undefined) => (b === null || b === undefined ? '–' : b ? 'yes' : 'NO');
  const lines: string[] = [];
  lines.push('# FundusLens benchmark');
  lines.push('');
  lines.push(`${machine.date} · commit ${machine.commit} · ${machine.cpu} ×${machine.cores} · ${machine.memGiB} GiB · Node ${machine.node} · tfjs ${machine.tfjs}${machine.chromium ? ` · Chromium ${machine.chromium}` : ''}`);
  lines.push('');
  if (machine.rendered) {
    const replaced = machine.replacedRows ? ` Rows replaced by a later measurement: ${String(machine.replacedRows)}.` : ' Nothing was measured again.';
    lines.push(`Tables rendered again ${String(machine.rendered)} from this run's stored medians (\`npm run bench -- --render\`).${replaced}`);
    lines.push('');
  }
  const runK = (machine.options as { k?: number } | undefined)?.k ?? k;
  lines.push(
    `Load average (1 min) at start ${machine.loadavgStart}, at end ${machine.loadavgEnd}; per row in the "load" column. ` +
      'This machine has 2 cores shared with other jobs (a training run, other builds): numbers measured under load are pessimistic, compare rows with similar load.',
  );
  lines.push('');
  lines.push(`Warm medians in ms over the "runs" column, after the untimed warm-up rounds in brackets (the first rounds after a cold start still run code V8 has not optimised yet; bench/lib/measure.ts; spread = (max − min) ÷ median in results.json). Whole analysis = analyze(photo, {maps: 'all'}) with k = ${runK} lesion label(s) forced positive, so it computes Grad-CAM for the 4 lesion labels and k guided-backprop maps. Decode is separate (Node: sharp; Chromium: createImageBitmap + the app worker's pixel read, src/worker/bitmap-pixels.ts). F = the faster of an isolated forward pass (LayersModel.apply) and the whole analysis' forward stage (the recorded forward of explain/guided-pass.ts; in Chromium the faster one); GC5 = forward + Grad-CAM for all 5 labels through the full gradient ∂y/∂A (the reference), read back on the last block's grid as analyze() returns them (16² at 512²; the upsampling for drawing and outlines is counted in the whole analysis); GB1 = guided backprop for one label with its own forward; GB+1 = what each further guided map adds to an analysis, whose forward it shares (explain/guided-pass.ts: the head's guided gradient + the recorded backward; the floor counts 2 F); floor = F × (1 + 2k); model part = forward + Grad-CAM + guided stages of the whole analysis. GC5 fast = GC5 with the window-sum Grad-CAM weights of src/core/explain/grad-cam-fast.ts (exact to float rounding; what analyze() uses). HR5 = forward + HiResCAM for all 5 labels (src/core/explain/hires-cam.ts, the app's alternative map; it needs the full gradient, so compare it with GC5).`);
  lines.push('');
  lines.push('| side | backend | model | input | load | runs | cold start | decode | gradability | preprocess | forward | Grad-CAM ×4 | guided ×k | outlines | total | F | GFLOP/s | GC5 ÷ F | GC5 fast ÷ F | HR5 ÷ F | GB1 ÷ F | GB+1 ÷ F | total ÷ F | total ÷ floor | model part ÷ floor |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.skipped) {
      if (r.skipped !== 'not selected') lines.push(`| ${r.side} | ${r.backend} | ${r.model} | | ${r.loadavg1} | – | ${r.skipped} |||||||||||||||||| |`);
      continue;
    }
    const d = derive(r);
    const cold = r.side === 'chromium' ? r.navigationToFirstResultMs : r.cold?.totalMs;
    const s = r.stages!;
    lines.push(
      `| ${r.side} | ${r.backend} | ${r.model} | ${r.inputSize}² | ${r.loadavg1} | ${r.warmRuns}${r.warmupRuns ? ` (+${r.warmupRuns})` : ''} | ${f0(cold)} | ${ms(s.decode)} | ${ms(s.gradability)} | ${ms(s.preprocess)} | ${ms(s.forward)} | ${ms(s.gradcam)} | ${ms(s.guidedBackprop)} (k=${r.kActual}) | ${ms(s.outlines)} | ${ms(s.total)} | ${f0(d?.forwardMs)} | ${f2(d?.gflops)} | ${f2(d?.gradcam5OverF)} | ${f2(d?.gradcam5FastOverF)} | ${f2(d?.hirescam5OverF)} | ${f2(d?.guided1OverF)} | ${f2(d?.guidedPerLabelOverF)} | ${f2(d?.totalOverF)} | ${f2(d?.totalOverFloor)} | ${f2(d?.modelPartOverFloor)} |`,
    );
  }
  lines.push('');
  lines.push('Cold start: Node = bundle read + load + warm-up + decode + first analysis in a running process; Chromium = navigation start to the first result in a fresh browser context (page bundle, tfjs + backend start, model download, warm-up, decode, first analysis).');
  lines.push('');
  lines.push('## Goals (issue 8)');
  lines.push('');
  lines.push('| side | backend | model | Grad-CAM ×5 incl. forward ≤ 1.3 F (GC5 fast: the window-sum weights analyze() runs) | the same through the full gradient (GC5: the reference, not what the app runs) | guided backprop ≤ 2.5 F per label (GB1, own forward) | whole analysis ≤ 1.2 × floor | model part ≤ 1.2 × floor | cold start ≤ 2 s (demo, Chromium: the bench page; the app below) |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const d = derive(r);
    if (!d) continue;
    const page = r.side === 'chromium' ? r.navigationToFirstResultMs : undefined;
    const app = appRows.find((a) => !a.error && a.backend === r.backend);
    const coldCell =
      d.goals.coldStart === null
        ? yn(null)
        : `${yn(d.goals.coldStart)} (page ${Math.round(page ?? NaN)} ms)` +
          (app ? `; app ${yn((app.navigationToResultMs ?? Infinity) <= 2000)} (${app.navigationToResultMs} ms${app.trials && app.trials.length > 1 ? `, median of ${app.trials.length}` : ''})` : '');
    lines.push(
      `| ${r.side} | ${r.backend} | ${r.model} | ${yn(d.goals.gradcam5Fast)} (${f2(d.gradcam5FastOverF)} F) | ${yn(d.goals.gradcam5)} (${f2(d.gradcam5OverF)} F) | ${yn(d.goals.guided)} (${f2(d.guided1OverF)} F) | ${yn(d.goals.total)} (${f2(d.totalOverFloor)} × floor) | ${yn(d.modelPartOverFloor <= 1.2)} (${f2(d.modelPartOverFloor)} × floor) | ${coldCell} |`,
    );
  }
  if (appRows.length) {
    lines.push('');
    lines.push('## The app\'s cold start (demo model, Chromium, fresh profile)');
    lines.push('');
    lines.push('The built app (worker, React, service worker registration), navigation → the first sample\'s result on screen, the sample clicked as soon as it shows, each trial in a fresh browser context: the median, with the range over the trials. Goal: ≤ 2 s.');
    lines.push('');
    lines.push('| backend (?backend=) | used | load | trials | navigation → result | click → result | ≤ 2 s |');
    lines.push('|---|---|---|---|---|---|---|');
    const range = (a: AppCold, k: 'navigationToResultMs' | 'clickToResultMs') =>
      a.trials && a.trials.length > 1 ? ` (${Math.min(...a.trials.map((t) => t[k]))}–${Math.max(...a.trials.map((t) => t[k]))})` : '';
    for (const a of appRows) {
      lines.push(
        a.error
          ? `| ${a.backend} | | ${a.loadavg1} | | failed: ${a.error} | | |`
          : `| ${a.backend} | ${a.used ?? '?'} | ${a.loadavg1} | ${a.trials?.length ?? 1} | ${a.navigationToResultMs}${range(a, 'navigationToResultMs')} | ${a.clickToResultMs}${range(a, 'clickToResultMs')} | ${yn((a.navigationToResultMs ?? Infinity) <= 2000)} |`,
      );
    }
  }
  const pairs: string[] = [];
  for (const r of rows.filter((x) => x.side === 'chromium' && !x.skipped)) {
    const n = rows.find((x) => x.side === 'node' && !x.skipped && x.backend === r.backend && x.model === r.model);
    if (!n) continue;
    const dn = derive(n);
    const db = derive(r);
    if (!dn || !db) continue;
    pairs.push(`| ${r.backend} | ${r.model} | ${f2(db.forwardMs / dn.forwardMs)} | ${f2(r.stages!.total!.median / n.stages!.total!.median)} |`);
  }
  if (pairs.length) {
    lines.push('');
    lines.push('## Chromium ÷ Node on the same backend');
    lines.push('');
    lines.push('| backend | model | forward | whole analysis |');
    lines.push('|---|---|---|---|');
    lines.push(...pairs);
  }
  const notes = rows.flatMap((r) => (r.notes ?? []).map((n) => `- ${r.side}/${r.backend}/${r.model}: ${n}`));
  if (notes.length) {
    lines.push('');
    lines.push('## Notes');
    lines.push('');
    lines.push(...notes);
  }
  return `${lines.join('\n')}\n`;
}

/** `--render <results.json>`: the tables again from a run's stored medians (after a change to derive() or report()), no measuring. */
function render(file: string): void {
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { machine: Record<string, unknown>; rows: (Row & { derived?: unknown })[]; app?: typeof appRows };
  for (const { derived: _d, ...r } of stored.rows) rows.push(r);
  appRows.push(...(stored.app ?? []));
  const machine = { ...stored.machine, rendered: `${new Date().toISOString()} at commit ${gitCommit()}` };
  const results = { machine, rows: rows.map((r) => ({ ...r, derived: derive(r) })), app: appRows };
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench', 'results.md'), report(machine));
  log(`rendered bench/results.md and bench/results.json from ${file}`);
}

async function main(): Promise<void> {
  if (flags.render) return render(flags.render);
  const t0 = Date.now();
  await ensurePhoto();
  if (models.includes('resnet50')) await ensureResNet50();
  let chromiumVersion: string | undefined;
  const machine: Record<string, unknown> = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    freeMemGiB: Math.round(freemem() / 2 ** 30),
    node: process.version,
    tfjs: tf.version_core,
    loadavgStart: load1(),
    options: { runs, warmupRuns, appTrials, budgetS: budgetMs / 1000, k, models, backends: wantBackends ?? 'all', allowSlow: flags['allow-slow'] },
  };
  if (!flags['browser-only']) await nodeBench();
  if (!flags['node-only']) {
    try {
      chromiumVersion = execFileSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      chromiumVersion = 'unknown';
    }
    machine.chromium = chromiumVersion;
    await browserBench();
  }
  machine.loadavgEnd = load1();
  machine.wallS = Math.round((Date.now() - t0) / 1000);
  const results = { machine, rows: rows.map((r) => ({ ...r, derived: derive(r) })), app: appRows };
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const md = report(machine);
  writeFileSync(join(ROOT, 'bench', 'results.md'), md);
  log('');
  log(md);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
