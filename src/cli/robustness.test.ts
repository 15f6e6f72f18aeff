/**
 * Robustness suite, Node side (issue 8): every awkward input file of scripts/make-bad-inputs.ts
 * through the Node API (sharp decode + core analyze) and the CLI, and every model-bundle fault
 * through loadBundle and the CLI. Each must end in the documented result or a clear message
 * naming the file, and the run must go on with the next input.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../core/analyze';
import { tinyModel, tinyNet } from '../core/analyze.test-fixtures';
import { isFundusLensError } from '../core/errors';
import { loadBundle, saveBundle } from '../core/model/bundle';
import type { FundusModel } from '../core/model/fundus-model';
import { detectFov, photoToModel, preprocess } from '../core/preprocess/index';
import { decodeImage } from './decode';
import { fsBundleReader, fsBundleWriter } from './fs-bundle';
import { runCli, type ErrorLine, type ResultLine } from './run';
import type { BadInput, Manifest } from '../../scripts/bad-inputs-manifest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'funduslens-robust-'));
const inputs = join(root, 'inputs');
const bundle = join(root, 'bundle');
let manifest: Manifest;
let model: FundusModel;

const byKind = (kind: BadInput['kind']): BadInput => {
  const e = manifest.inputs.find((i) => i.kind === kind);
  if (!e) throw new Error(`make-bad-inputs wrote no ${kind}`);
  return e;
};
const path = (e: BadInput) => join(inputs, e.file);

function capture() {
  const chunks: string[] = [];
  return { sink: { write: (s: string) => chunks.push(s), isTTY: false }, text: () => chunks.join('') };
}

beforeAll(async () => {
  // the generator is a separate script (training's synthetic fundus + sharp), as CI and e2e run it
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'make-bad-inputs.ts'), inputs], { cwd: ROOT, stdio: 'inherit' });
  manifest = JSON.parse(readFileSync(join(inputs, 'manifest.json'), 'utf8')) as Manifest;
  await tf.setBackend('cpu');
  const { net, metadata } = tinyNet();
  await saveBundle(net, metadata, fsBundleWriter(bundle));
  net.dispose();
  model = tinyModel();
}, 120_000);
afterAll(() => {
  model?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('bad input files through the Node API (sharp decode + analyze)', () => {
  it('each file gives its documented result or a typed error naming the file; no tensor is left behind', async () => {
    const before = tf.memory().numTensors;
    const outcome: Record<string, string> = {};
    for (const e of manifest.inputs) {
      let line: string;
      try {
        const img = await decodeImage(path(e));
        // the decoder hands over upright, 8-bit RGB whatever the file held (CMYK, 16-bit, alpha, grey, EXIF)
        expect([img.width, img.height, img.channels], e.kind).toEqual([e.width, e.height, 3]);
        const r = await analyze(img, model);
        line = `ok:${r.summary}`;
        if (e.expect === 'ungradable') {
          expect(r.quality.gradable, e.kind).toBe(false);
          expect(r.quality.reasons.length, e.kind).toBeGreaterThan(0);
          expect(r.outlines).toEqual([]);
        }
      } catch (err) {
        expect(isFundusLensError(err), `${e.kind}: ${String(err)}`).toBe(true);
        const fe = err as { code: string; message: string; file?: string };
        line = `error:${fe.code}`;
        expect(fe.code, e.kind).toBe(e.errorCode);
        if (fe.code === 'decode-failed') expect(fe.message).toContain(e.file);
        if (e.kind === 'empty') expect(fe.message).toMatch(/is empty \(0 bytes\)/);
        expect(fe.message.length, e.kind).toBeGreaterThan(30); // a sentence, not a bare code
      }
      outcome[e.kind] = line;
      if (e.expect === 'error') expect(line, e.kind).toMatch(/^error:/);
      if (e.expect === 'ok' || e.expect === 'ungradable') expect(line, e.kind).toMatch(/^ok:/);
    }
    expect(tf.memory().numTensors).toBe(before);
    // the documented outcomes, in one place (README / robustness table)
    expect(outcome).toMatchObject({
      reference: expect.stringMatching(/^ok:/),
      empty: 'error:decode-failed',
      'text-as-jpg': 'error:decode-failed',
      tiny: 'error:image-too-small',
      'non-fundus': 'ok:ungradable',
    });
    if (outcome.huge) expect(outcome.huge).toBe('error:image-too-large');
  }, 120_000);

  it('an EXIF-rotated photo is analysed upright: same pixels, FOV and transform as the upright file; the optic disc lands on the disc in the model input', async () => {
    const up = byKind('reference-upright');
    const ex = byKind('exif-rotated');
    const a = await decodeImage(path(up));
    const b = await decodeImage(path(ex));
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff += Math.abs(a.data[i] - b.data[i]);
    expect(diff / a.data.length).toBeLessThan(3); // JPEG noise only; a transposed photo differs by tens

    const fov = detectFov(b);
    expect(fov.found).toBe(true);
    expect(Math.hypot(fov.cx - ex.fov!.cx, fov.cy - ex.fov!.cy)).toBeLessThan(0.05 * ex.fov!.radius);

    // the tiny random net's outlines sit on the bright optic disc, which analyze() now keeps
    // outlines off by default; this test is about the geometry of outlines, so it keeps them
    const ra = await analyze(a, model, { force: true, excludeOpticDisc: false });
    const rb = await analyze(b, model, { force: true, excludeOpticDisc: false });
    for (const key of ['scale', 'offsetX', 'offsetY'] as const) expect(Math.abs(ra.transform[key] - rb.transform[key])).toBeLessThan(2);
    expect(rb.outlines.length).toBeGreaterThan(0);
    // outlines are in photo pixels of the upright photo: every ring lies inside it, near the upright run's rings
    for (const o of rb.outlines) for (const [x, y] of o.points) expect(x >= 0 && x <= b.width && y >= 0 && y <= b.height).toBe(true);
    const centroid = (os: typeof ra.outlines) => {
      let sx = 0, sy = 0, n = 0;
      for (const o of os) for (const [x, y] of o.points) (sx += x), (sy += y), n++;
      return [sx / n, sy / n];
    };
    const [ax, ay] = centroid(ra.outlines);
    const [bx, by] = centroid(rb.outlines);
    expect(Math.hypot(ax - bx, ay - by)).toBeLessThan(0.05 * b.width);

    // The optic disc (true position in the displayed frame) mapped photo -> model grid is the
    // brightest structure there: the transform puts the overlay where the clinician sees the disc.
    const pre = preprocess(b, model.metadata.preprocess, fov);
    try {
      const s = pre.transform.inputSize;
      const px = (await pre.input.data()) as Float32Array;
      const lum = (u: number, v: number) => {
        const i = (Math.min(s - 1, Math.max(0, Math.round(v))) * s + Math.min(s - 1, Math.max(0, Math.round(u)))) * 3;
        return px[i] + px[i + 1] + px[i + 2];
      };
      const [du, dv] = photoToModel(pre.transform, ex.disc!.x, ex.disc!.y);
      const [cu, cv] = photoToModel(pre.transform, ex.fov!.cx, ex.fov!.cy);
      // mirrored position (what a decoder ignoring EXIF would pair with this transform)
      const [mu, mv] = [2 * cu - du, dv];
      expect(lum(du, dv)).toBeGreaterThan(lum(mu, mv) + 0.3);
      expect(lum(du, dv)).toBeGreaterThan(lum(cu, cv) + 0.3);
    } finally {
      pre.input.dispose();
    }
  }, 60_000);
});

describe('bad input files through the CLI', () => {
  it('one line per file: documented result or {ok:false} with a clear message; the good photos after a bad one are still analysed; exit 1', async () => {
    const out = join(root, 'cli-out');
    const err = capture();
    const files = manifest.inputs.map(path);
    const code = await runCli(['--model', bundle, '--out', out, '--backend', 'cpu', ...files], { stdout: capture().sink, stderr: err.sink });
    expect(code).toBe(1);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ResultLine | ErrorLine);
    expect(lines.map((l) => l.image)).toEqual(files);
    for (const [i, e] of manifest.inputs.entries()) {
      const l = lines[i];
      if (e.expect === 'error') expect(l.ok, e.kind).toBe(false);
      if (e.expect === 'ok' || e.expect === 'ungradable') expect(l.ok, `${e.kind}: ${JSON.stringify(l).slice(0, 200)}`).toBe(true);
      if (!l.ok) {
        expect(l.code, e.kind).toBe(e.errorCode);
        expect(l.error.length).toBeGreaterThan(30);
      } else {
        expect([l.width, l.height], e.kind).toEqual([e.width, e.height]);
        if (e.expect === 'ungradable') expect(l.summary).toBe('ungradable');
      }
    }
    expect(err.text()).toMatch(/analysed, \d+ failed/);
  }, 120_000);
});

describe('model bundle faults (loadBundle and the CLI): a clear message naming the file', () => {
  const broken = (name: string, damage: (dir: string) => void): string => {
    const dir = join(root, `bundle-${name}`);
    cpSync(bundle, dir, { recursive: true });
    damage(dir);
    return dir;
  };
  const editMeta = (dir: string, f: (m: Record<string, unknown>) => void) => {
    const m = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
    f(m);
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify(m));
  };
  const SHARD = 'group1-shard1of1.bin';
  const cases: { name: string; damage: (dir: string) => void; code: string; file: string; says: RegExp }[] = [
    { name: 'missing-shard', damage: (d) => unlinkSync(join(d, SHARD)), code: 'model-missing-file', file: SHARD, says: /missing/ },
    {
      name: 'wrong-hash',
      damage: (d) => {
        const b = readFileSync(join(d, SHARD));
        b[b.length >> 1] ^= 0xff;
        writeFileSync(join(d, SHARD), b);
      },
      code: 'model-bad-hash',
      file: SHARD,
      says: /damaged or was changed/,
    },
    { name: 'wrong-version', damage: (d) => editMeta(d, (m) => (m.schemaVersion = 2)), code: 'model-bad-version', file: 'metadata.json', says: /schema version 2 is not supported/ },
    {
      name: 'label-count',
      damage: (d) => editMeta(d, (m) => (m.labels = (m.labels as unknown[]).slice(0, 4))),
      code: 'model-label-mismatch',
      file: 'metadata.json',
      says: /5 outputs but metadata\.json lists 4 labels/,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: loadBundle throws ${c.code} naming ${c.file}; the CLI exits 2 with the path`, async () => {
      const dir = broken(c.name, c.damage);
      const before = tf.memory().numTensors;
      const e = await loadBundle(fsBundleReader(dir)).then(
        (m) => (m.dispose(), null),
        (x: unknown) => x,
      );
      expect(isFundusLensError(e)).toBe(true);
      const fe = e as { code: string; file?: string; message: string };
      expect(fe.code).toBe(c.code);
      expect(fe.file).toBe(c.file);
      expect(fe.message).toMatch(c.says);
      expect(tf.memory().numTensors).toBe(before); // a failed load leaves no weights behind

      const err = capture();
      const code = await runCli(['--model', dir, '--out', join(root, `out-${c.name}`), '--backend', 'cpu', path(byKind('reference'))], { stdout: capture().sink, stderr: err.sink });
      expect(code).toBe(2);
      expect(err.text()).toContain(join(dir, c.file));
      expect(err.text()).toMatch(c.says);
    }, 60_000);
  }
});
