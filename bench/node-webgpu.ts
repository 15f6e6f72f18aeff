/**
 * The bench on tfjs' WebGPU backend in Node, through Dawn (the npm package `webgpu`, the same
 * WebGPU implementation Chromium uses). It exists for one purpose: measuring the analysis on a
 * real GPU, where no browser can be installed (the device machine of bench/device/), with the
 * same measuring routine as `npm run bench` (bench/lib/measure.ts) and the same stages.
 *
 *   npx tsx bench/node-webgpu.ts --dawn <dawn.node> [--dawn-backend default|vulkan|opengles]
 *        [--models demo,resnet50] [--runs 10] [--warmup-runs 10] [--budget-s 120] [--k 1,4] [--train-batches 8,16]
 *        [--photo <W>x<H>.rgb] [--root .] [--out bench/out/node-webgpu] [--commit <id>]
 *        [--tf-flags NAME=value,...] [--profile]
 *
 * `--dawn` points at the package's dist/<platform>-<arch>/dawn.node (loaded with require, so a
 * bundle of this script carries no native code). On this CPU-only machine `--dawn-backend
 * opengles` gives Mesa's llvmpipe (software) — a smoke test, not a speed number.
 * The photo is read as raw RGB (8-bit, no header; size in the file name) so that no image
 * decoder has to travel to the GPU machine; `decode` is then only that read.
 * Besides the analysis it times one training step (forward + backward + Adam) of the demo
 * architecture per batch size: what a GPU would give `npm run train` if it ran on WebGPU.
 * `--tf-flags` sets tfjs environment flags first (e.g. WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE=false), so
 * variants can be compared in one lease; `--profile` adds a per-kernel GPU-time profile
 * (tf.profile, timestamp queries) of one guided backprop (GB1) and one forward + Grad-CAM ×5 (GC5 fast).
 * `--parallel-gate` also times each model's analysis with the photo checks inline and beside the model in a worker
 * thread (bench/lib/gate-beside.ts), as the app runs them on a device with 4 or more cores: this script started
 * again as that thread, so the bundle stays one file.
 * Writes results.json and results.md into --out.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { fsBundleReader } from '../src/cli/fs-bundle';
import { setupBackend } from '../src/core/backends/index';
import { loadBundle, memoryBundle, saveBundle } from '../src/core/model/bundle';
import { buildCompactResNet, buildPaperResNet50 } from '../src/core/model/builders';
import type { FundusModel } from '../src/core/model/fundus-model';
import { photoChecks } from '../src/core/photo-checks';
import type { RgbImage } from '../src/core/types';
import { checksFromThread, measureGateBeside, type GateBesideRecord } from './lib/gate-beside';
import { benchModel, classMapsAllStep, coldStart, guided1Step, resnet50BenchMetadata, stats, withPositiveLabels, type BenchRecord, type Stats } from './lib/measure';

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    dawn: { type: 'string' },
    'dawn-backend': { type: 'string', default: 'default' },
    models: { type: 'string', default: 'demo,resnet50' },
    runs: { type: 'string', default: '10' },
    'warmup-runs': { type: 'string', default: '10' },
    'budget-s': { type: 'string', default: '120' },
    k: { type: 'string', default: '1' },
    'train-batches': { type: 'string', default: '8,16' },
    'train-steps': { type: 'string', default: '5' },
    photo: { type: 'string' },
    root: { type: 'string', default: '.' },
    out: { type: 'string', default: 'bench/out/node-webgpu' },
    commit: { type: 'string' },
    'tf-flags': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'parallel-gate': { type: 'boolean', default: false },
  },
});
const log = (s: string) => process.stdout.write(`${s}\n`);
const ROOT = resolve(flags.root!);
const OUT = resolve(flags.out!);
const runs = Number(flags.runs);
const warmupRuns = Number(flags['warmup-runs']);
const budgetMs = Number(flags['budget-s']) * 1000;
const ks = flags.k!.split(',').map(Number);
const now = () => performance.now();

interface GpuRequestAdapter {
  requestAdapter(o?: Record<string, unknown>): Promise<{ info?: Record<string, string>; isFallbackAdapter?: boolean } | null>;
}

/** navigator.gpu from Dawn, installed before tfjs-backend-webgpu is imported (it reads navigator at import). */
async function installDawn(): Promise<{ adapter: Record<string, unknown> }> {
  if (!flags.dawn) throw new Error('--dawn <path to dawn.node> is required (the npm package webgpu: dist/linux-x64/dawn.node)');
  const dawn = createRequire(import.meta.url ?? __filename)(resolve(flags.dawn)) as {
    create(o: string[]): GpuRequestAdapter;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, dawn.globals);
  const backend = flags['dawn-backend'];
  const gpu = dawn.create(backend === 'default' ? [] : [`backend=${backend}`]);
  // Dawn's GLES backend only offers a compatibility-mode adapter; tfjs asks with powerPreference alone.
  const extra = backend === 'opengles' ? { featureLevel: 'compatibility' } : { powerPreference: 'high-performance' };
  const wrapped = Object.create(gpu) as GpuRequestAdapter;
  wrapped.requestAdapter = (o?: Record<string, unknown>) => gpu.requestAdapter({ ...o, ...extra });
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: wrapped, userAgent: 'node' }, configurable: true, writable: true });
  const a = await wrapped.requestAdapter();
  if (!a) throw new Error(`Dawn offered no adapter (backend ${backend})`);
  const info = a.info ?? {};
  return { adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: a.isFallbackAdapter ?? null } };
}

function readPhoto(): { decode: () => Promise<RgbImage>; name: string } {
  const path = resolve(flags.photo ?? join(ROOT, 'bench', 'out', 'photo-2144x1424.rgb'));
  const m = /(\d+)x(\d+)\.rgb$/.exec(basename(path));
  if (!m) throw new Error(`--photo must be raw RGB named <W>x<H>.rgb, got ${path}`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  return {
    name: basename(path),
    decode: async () => {
      const data = new Uint8Array(readFileSync(path));
      if (data.length !== width * height * 3) throw new Error(`${path}: ${data.length} bytes, expected ${width * height * 3}`);
      return { width, height, channels: 3, data };
    },
  };
}

async function loadModel(name: string): Promise<FundusModel> {
  if (name === 'demo') return loadBundle(fsBundleReader(join(ROOT, 'public', 'models', 'demo')), { foldBatchNorm: true });
  if (name === 'resnet50') {
    // built in memory: its 95 MB of random weights need not travel (speed only, as in npm run bench)
    const demoMeta = JSON.parse(readFileSync(join(ROOT, 'public', 'models', 'demo', 'metadata.json'), 'utf8'));
    // through a bundle in memory, so it is folded like every served model (model/fold.ts)
    const net = buildPaperResNet50({ inputSize: 512, seed: 3 });
    const mem = memoryBundle();
    const { weightsSha256: _none, ...meta } = resnet50BenchMetadata(demoMeta);
    await saveBundle(net, meta, mem);
    net.dispose();
    return loadBundle(mem, { foldBatchNorm: true });
  }
  throw new Error(`unknown model ${name} (demo, resnet50)`);
}

interface TrainRecord {
  arch: string;
  inputSize: number;
  batch: number;
  step: Stats;
  imagesPerSecond: number;
}

/** One training step of the demo architecture (forward, class-weighted-free BCE, backward, Adam) per batch size. */
async function benchTrainStep(): Promise<TrainRecord[]> {
  const meta = JSON.parse(readFileSync(join(ROOT, 'public', 'models', 'demo', 'metadata.json'), 'utf8'));
  const cfg = meta.training?.archConfig ?? {};
  const size: number = meta.inputSize;
  const out: TrainRecord[] = [];
  for (const batch of flags['train-batches']!.split(',').map(Number).filter((b) => b > 0)) {
    const net = buildCompactResNet({ inputSize: size, width: cfg.width ?? 16, blocks: cfg.blocks ?? [1, 1, 1, 1], seed: 1 });
    const opt = tf.train.adam(1e-3);
    const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1);
    const y = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([batch, 5], 0, 1, 'float32', 2), 0.5), 'float32'));
    const step = async () => {
      const t0 = now();
      const loss = opt.minimize(() => tf.losses.sigmoidCrossEntropy(y, net.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
      await loss!.data();
      loss!.dispose();
      return now() - t0;
    };
    await step(); // shader compilation
    const samples: number[] = [];
    for (let i = 0; i < Number(flags['train-steps']); i++) samples.push(await step());
    const s = stats(samples);
    out.push({ arch: net.name, inputSize: size, batch, step: s, imagesPerSecond: Math.round((batch / (s.median / 1000)) * 10) / 10 });
    log(`train step ${net.name} @${size} batch ${batch}: ${s.median} ms (${out.at(-1)!.imagesPerSecond} img/s)`);
    tf.dispose([x, y]);
    opt.dispose();
    net.dispose();
  }
  return out;
}

interface KernelProfile {
  what: string;
  model: string;
  /** sum of the kernels' GPU times, ms */
  kernelMs: number;
  wallMs: number;
  kernels: number;
  /** by kernel name, largest first: total ms, count */
  top: { name: string; ms: number; n: number }[];
}

function applyTfFlags(): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  for (const kv of (flags['tf-flags'] ?? '').split(',').filter(Boolean)) {
    const [name, raw] = kv.split('=');
    const value = raw === 'true' ? true : raw === 'false' ? false : Number.isNaN(Number(raw)) ? raw : Number(raw);
    tf.env().set(name, value as never);
    set[name] = value;
  }
  return set;
}

/** Per-kernel GPU time of one guided backprop and one forward + Grad-CAM ×5 (after one unprofiled pass of each). */
async function profileModel(key: string): Promise<KernelProfile[]> {
  const model = await loadModel(key);
  await model.warmup(); // as the app and the bench's cold start do (shaders, BatchNorm constants)
  const size = model.metadata.inputSize;
  const x = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  // the very steps the timed bench runs (GB1, GC5 fast), so the profile explains those numbers
  const steps: Record<string, () => tf.Tensor[]> = {
    guided1: () => [guided1Step(model, x)],
    gradcam5: () => classMapsAllStep(model, x, 'fast') ?? [],
  };
  const res: KernelProfile[] = [];
  for (const [what, f] of Object.entries(steps)) {
    const warm = f();
    await Promise.all(warm.map((t) => t.data()));
    tf.dispose(warm);
    const t0 = now();
    const info = await tf.profile(async () => {
      const r = f();
      await Promise.all(r.map((t) => t.data()));
      tf.dispose(r);
    });
    const wallMs = now() - t0;
    const by = new Map<string, { ms: number; n: number }>();
    let kernelMs = 0;
    for (const kk of info.kernels) {
      const v = typeof kk.kernelTimeMs === 'number' ? kk.kernelTimeMs : NaN;
      kernelMs += Number.isFinite(v) ? v : 0;
      const e = by.get(kk.name) ?? { ms: 0, n: 0 };
      e.ms += Number.isFinite(v) ? v : 0;
      e.n += 1;
      by.set(kk.name, e);
    }
    const top = [...by.entries()].map(([name, e]) => ({ name, ms: Math.round(e.ms * 100) / 100, n: e.n })).sort((a, b) => b.ms - a.ms).slice(0, 12);
    res.push({ what, model: key, kernelMs: Math.round(kernelMs * 10) / 10, wallMs: Math.round(wallMs), kernels: info.kernels.length, top });
    log(`profile ${key} ${what}: ${info.kernels.length} kernels, GPU ${kernelMs.toFixed(1)} ms (profiled wall ${Math.round(wallMs)} ms); ${top.slice(0, 6).map((t) => `${t.name} ${t.ms} (${t.n})`).join(', ')}`);
  }
  x.dispose();
  model.dispose();
  return res;
}

function gpuName(): string | null {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const ms = (s?: Stats) => (s ? `${s.median.toFixed(s.median < 100 ? 1 : 0)}` : '–');
const ratio = (a?: Stats, b?: Stats) => (a && b ? (a.median / b.median).toFixed(2) : '–');

function markdown(info: Record<string, unknown>, rows: (BenchRecord & { modelKey: string })[], train: TrainRecord[], profiles: KernelProfile[] = [], gates: GateBesideRecord[] = []): string {
  const L: string[] = [];
  L.push(`# Bench on tfjs WebGPU in Node (Dawn): ${info.gpu ?? (info.adapter as Record<string, unknown>)?.description ?? 'unknown adapter'}`);
  L.push('');
  L.push(`${info.date} · commit ${info.commit} · Dawn backend ${info.dawnBackend} · adapter ${JSON.stringify(info.adapter)} · ${info.cpu} · photo ${info.photo}`);
  L.push('');
  L.push('Warm medians in ms (spread = (max − min) ÷ median). F = forward, GC5 = forward + Grad-CAM for all 5 labels, read back on the last block\'s grid as analyze() returns them (full gradient; fast = window-sum weights, what the app uses), HR5 = forward + HiResCAM for 5 labels, GB1 = guided backprop for 1 label (its own forward + backward), floor = F × (1 + 2k).');
  L.push('');
  L.push('| model | k | runs | cold start (load / warm-up / first analysis) | gradability | preprocess | forward | Grad-CAM | guided backprop | outlines | total | F | GC5 | GC5 fast | HR5 | GB1 | GC5 fast ÷ F | GB1 ÷ F | total ÷ floor | model part ÷ floor | GFLOP/s |');
  L.push('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const F = r.isolated.forward.median;
    const floor = F * (1 + 2 * r.kActual);
    const st = r.stages;
    const modelPart = (st.forward?.median ?? 0) + (st.gradcam?.median ?? 0) + (st.guidedBackprop?.median ?? 0);
    const c = r.cold;
    L.push(
      `| ${r.model} @${r.inputSize} | ${r.kActual} | ${r.warmRuns}${r.warmupRuns ? ` (+${r.warmupRuns})` : ''} | ${c ? `${Math.round(c.totalMs)} (${Math.round(c.loadMs)} / ${Math.round(c.warmupMs)} / ${Math.round(c.firstAnalysisMs)})` : '–'} | ${ms(st.gradability)} | ${ms(st.preprocess)} | ${ms(st.forward)} | ${ms(st.gradcam)} | ${ms(st.guidedBackprop)} | ${ms(st.outlines)} | ${ms(st.total)} | ${ms(r.isolated.forward)} | ${ms(r.isolated.gradcam5)} | ${ms(r.isolated.gradcam5Fast)} | ${ms(r.isolated.hirescam5)} | ${ms(r.isolated.guided1)} | ${ratio(r.isolated.gradcam5Fast, r.isolated.forward)} | ${ratio(r.isolated.guided1, r.isolated.forward)} | ${st.total ? (st.total.median / floor).toFixed(2) : '–'} | ${(modelPart / floor).toFixed(2)} | ${((2 * r.macs) / (F / 1000) / 1e9).toFixed(0)} |`,
    );
  }
  for (const r of rows) for (const n of r.notes) L.push(`\n- ${r.model} k=${r.k}: ${n}`);
  if (gates.length) {
    L.push('');
    L.push(`The photo checks (FOV, gradability gate, optic disc) inline and beside the model in a worker thread, as the app runs them with 4 or more cores (maps 'all', forced; wall-clock medians in ms over alternating pairs after untimed ones; ${cpus().length} CPUs):`);
    L.push('');
    L.push('| model | k | pairs | whole analysis, checks inline | checks beside the model | beside ÷ inline | the checks inline / in the thread |');
    L.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const g of gates) L.push(`| ${g.model} | ${g.k} | ${g.runs} (+${g.warm}) | ${ms(g.inline)} | ${ms(g.beside)} | ${g.ratio.toFixed(2)} | ${ms(g.gateInline)} / ${ms(g.gateBeside)} |`);
  }
  if (train.length) {
    L.push('');
    L.push('Training step (forward + backward + Adam, random data) of the demo architecture:');
    L.push('');
    L.push('| architecture | input | batch | step ms (median) | spread | images/s |');
    L.push('|---|---:|---:|---:|---:|---:|');
    for (const t of train) L.push(`| ${t.arch} | ${t.inputSize} | ${t.batch} | ${ms(t.step)} | ${t.step.spread} | ${t.imagesPerSecond} |`);
  }
  for (const p of profiles) {
    L.push('');
    L.push(`Kernel profile, ${p.model} ${p.what}: ${p.kernels} kernels, ${p.kernelMs} ms of GPU time (profiled wall ${p.wallMs} ms):`);
    L.push('');
    L.push(p.top.map((t) => `${t.name} ${t.ms} ms ×${t.n}`).join(' · '));
  }
  return `${L.join('\n')}\n`;
}

async function main(): Promise<void> {
  const t00 = now();
  const { adapter } = await installDawn();
  await import('@tensorflow/tfjs-backend-webgpu');
  const tfFlags = applyTfFlags();
  const got = await setupBackend(['webgpu']);
  log(`backend ${got}; adapter ${JSON.stringify(adapter)}`);
  const gpu = gpuName();
  if (gpu) log(`nvidia-smi: ${gpu}`);
  const photo = readPhoto();
  const info = {
    date: new Date().toISOString(),
    commit: commitId(),
    dawnBackend: flags['dawn-backend'],
    adapter,
    gpu,
    cpu: `${cpus()[0]?.model ?? '?'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    tfjs: tf.version.tfjs,
    photo: photo.name,
    tfFlags,
    wallSeconds: 0,
  };
  const rows: (BenchRecord & { modelKey: string })[] = [];
  const failures: string[] = [];
  let train: TrainRecord[] = [];
  const profiles: KernelProfile[] = [];
  const gates: GateBesideRecord[] = [];
  // written after every row: a GPU lease can end mid-run, and what was measured must survive it
  const save = () => {
    info.wallSeconds = Math.round((now() - t00) / 100) / 10;
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'results.json'), `${JSON.stringify({ info, rows, gates, train, profiles, failures }, null, 1)}\n`);
    const md = markdown(info, rows, train, profiles, gates) + failures.map((f) => `\n- FAILED: ${f}`).join('');
    writeFileSync(join(OUT, 'results.md'), md);
    return md;
  };
  for (const key of flags.models!.split(',').filter(Boolean)) {
    for (const k of ks) {
      log(`${key} k=${k}`);
      try {
        const { model, cold } = await coldStart(() => loadModel(key), photo.decode, k);
        log(`  cold start ${Math.round(cold.totalMs)} ms (load ${Math.round(cold.loadMs)}, warm-up ${Math.round(cold.warmupMs)}, first analysis ${Math.round(cold.firstAnalysisMs)})`);
        const rec = await benchModel(model, photo.decode, { runs, budgetMs, k, warmupRuns, log });
        model.dispose();
        rows.push({ ...rec, modelKey: key, cold });
      } catch (e) {
        failures.push(`${key} k=${k}: ${(e as Error).message}`);
        log(`  FAILED: ${(e as Error).stack ?? e}`);
      }
      save();
    }
  }
  if (flags['parallel-gate']) {
    // this very script as the thread: see the end of the file
    const thread = new Worker(process.argv[1], { argv: process.argv.slice(2) });
    const checks = checksFromThread(thread);
    const image = await photo.decode();
    for (const key of flags.models!.split(',').filter(Boolean)) {
      const k = ks[0];
      log(`${key}: photo checks inline / beside the model, k=${k}`);
      try {
        const model = await loadModel(key);
        await model.warmup();
        gates.push(await measureGateBeside(withPositiveLabels(model, k), image, { maps: 'all', k, runs, warm: 3, checks }));
        model.dispose();
      } catch (e) {
        failures.push(`parallel gate ${key}: ${(e as Error).message}`);
      }
      save();
    }
    await thread.terminate();
  }
  if (flags.profile) {
    for (const key of flags.models!.split(',').filter(Boolean)) {
      try {
        profiles.push(...(await profileModel(key)));
      } catch (e) {
        failures.push(`profile ${key}: ${(e as Error).message}`);
      }
      save();
    }
  }
  try {
    train = await benchTrainStep();
  } catch (e) {
    failures.push(`training step: ${(e as Error).message}`);
  }
  log(save());
}

function commitId(): string {
  if (flags.commit) return flags.commit;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown (no git here: pass --commit)';
  }
}

if (isMainThread) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
} else {
  // --parallel-gate's thread: core's photo checks on posted pixels, as the app's photo.worker.ts does
  parentPort!.on('message', ({ id, image }: { id: number; image: RgbImage }) => parentPort!.postMessage({ id, checks: photoChecks(image) }));
}
