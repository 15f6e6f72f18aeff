import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticFundus, tinyNet } from '../core/analyze.test-fixtures';
import { saveBundle } from '../core/model/bundle';
import { parseCliArgs } from './args';
import { fsBundleWriter } from './fs-bundle';
import { expandInputs } from './inputs';
import { overlaySvg } from './overlay';
import { runCli, toResultLine } from './run';

const root = mkdtempSync(join(tmpdir(), 'funduslens-cli-'));
const bundle = join(root, 'bundle');
const photos = join(root, 'photos');

function capture() {
  const chunks: string[] = [];
  return { sink: { write: (s: string) => chunks.push(s), isTTY: false }, text: () => chunks.join('') };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  const { net, metadata } = tinyNet();
  await saveBundle(net, metadata, fsBundleWriter(bundle));
  net.dispose();
  mkdirSync(join(photos, 'sub'), { recursive: true });
  const img = syntheticFundus(200, 150);
  const raw = { raw: { width: img.width, height: img.height, channels: 3 as const } };
  await sharp(Buffer.from(img.data), raw).png().toFile(join(photos, 'a.png'));
  // EXIF orientation 6 (rotate 90° cw to display): the decoded photo is 150×200.
  await sharp(Buffer.from(img.data), raw).jpeg().withMetadata({ orientation: 6 }).toFile(join(photos, 'sub', 'b.jpg'));
  writeFileSync(join(photos, 'broken.jpg'), Buffer.from('this is not a jpeg at all'));
  writeFileSync(join(photos, 'notes.txt'), 'not an image, skipped when walking a folder');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npm run analyze', () => {
  it('a folder with two good photos and one corrupt file: two ok lines, one error line, exit 1; overlays and maps', async () => {
    const out = join(root, 'out');
    const err = capture();
    const code = await runCli(['--model', bundle, '--out', out, '--maps', '--force', '--backend', 'cpu', photos], { stdout: capture().sink, stderr: err.sink });
    expect(code).toBe(1);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => [l.image, l.ok])).toEqual([
      [join(photos, 'a.png'), true],
      [join(photos, 'broken.jpg'), false],
      [join(photos, 'sub', 'b.jpg'), true],
    ]);
    const bad = lines[1];
    expect(bad.error).toMatch(/broken\.jpg/);
    expect(bad.code).toBe('decode-failed');
    for (const l of [lines[0], lines[2]]) {
      expect(Object.keys(l)).toEqual(expect.arrayContaining(['image', 'ok', 'quality', 'probabilities', 'positive', 'summary', 'outlines', 'timings_ms', 'backend', 'model']));
      expect(Object.keys(l.probabilities).sort()).toEqual(['cws', 'healthy', 'hex', 'hm', 'ma']);
      expect(typeof l.quality.gradable).toBe('boolean');
      expect(l.quality.score).toBeGreaterThanOrEqual(0);
      expect(Array.isArray(l.quality.reasons)).toBe(true);
      expect(['healthy', 'dr-signs', 'ungradable']).toContain(l.summary);
      expect(l.positive.ma).toBe(true); // threshold 0 in the tiny model's metadata
      expect(l.model).toBe('tiny@1.2.3');
      expect(l.backend).toBe('cpu');
      expect(l.cam_method).toBe('gradcam'); // the default: the paper's Grad-CAM
      expect(l.timings_ms.decode).toBeGreaterThanOrEqual(0);
      expect(l.timings_ms.total).toBeGreaterThanOrEqual(l.timings_ms.decode);
      for (const o of l.outlines) {
        expect(['ma', 'hex']).toContain(o.label);
        for (const [x, y] of o.points) {
          expect(x).toBeLessThanOrEqual(l.width);
          expect(y).toBeLessThanOrEqual(l.height);
        }
      }
    }
    // EXIF orientation applied: b is 150 wide, 200 high
    expect([lines[2].width, lines[2].height]).toEqual([150, 200]);
    const ovA = await sharp(join(out, 'a.overlay.png')).metadata();
    const ovB = await sharp(join(out, 'b.overlay.png')).metadata();
    expect([ovA.width, ovA.height]).toEqual([200, 150]);
    expect([ovB.width, ovB.height]).toEqual([150, 200]);
    for (const label of ['ma', 'hm', 'hex', 'cws']) {
      const m = await sharp(join(out, `b.${label}.cam.png`)).metadata();
      expect([m.width, m.height, m.channels]).toEqual([150, 200, 1]);
      expect(existsSync(join(out, `a.${label}.cam.png`))).toBe(true);
    }
    expect(existsSync(join(out, 'broken.overlay.png'))).toBe(false);
    expect(err.text()).toMatch(/backend: cpu/);
    expect(err.text()).toMatch(/2 analysed, 1 failed/);
    expect(err.text()).toMatch(/ETA/);
  });

  it('a photo the gate refuses: its progress line says why (a plain grey picture: no retina found)', async () => {
    const grey = join(root, 'grey');
    mkdirSync(grey, { recursive: true });
    await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 120, g: 120, b: 120 } } }).png().toFile(join(grey, 'wall.png'));
    const err = capture();
    expect(await runCli(['--model', bundle, '--out', join(root, 'out-grey'), '--backend', 'cpu', grey], { stdout: capture().sink, stderr: err.sink })).toBe(0);
    expect(err.text()).toMatch(/wall\.png {2}ungradable: No retina found — is this a fundus photo\?/);
  });

  it('exit 0 when every input is fine; a missing --model gives a clear message and exit 2', async () => {
    const out = join(root, 'out-ok');
    const ok = await runCli(['--model', bundle, '--out', out, '--backend', 'cpu', join(photos, 'a.png')], { stdout: capture().sink, stderr: capture().sink });
    expect(ok).toBe(0);
    expect(existsSync(join(out, 'a.overlay.png'))).toBe(true);
    expect(existsSync(join(out, 'a.ma.cam.png'))).toBe(false); // no --maps
    const err = capture();
    expect(await runCli(['--model', join(root, 'nope'), join(photos, 'a.png')], { stdout: capture().sink, stderr: err.sink })).toBe(2);
    expect(err.text()).toMatch(/metadata\.json/);
    const usage = capture();
    expect(await runCli(['--backend', 'gpu9000', 'x.jpg'], { stdout: capture().sink, stderr: usage.sink })).toBe(2);
    expect(usage.text()).toMatch(/--backend must be one of/);
  });

  it('a folder walk skips the output folder and non-image files', () => {
    const out = join(photos, 'funduslens-out');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'a.overlay.png'), 'x');
    const items = expandInputs([photos], [out]).map((i) => i.path);
    expect(items).toEqual([join(photos, 'a.png'), join(photos, 'broken.jpg'), join(photos, 'sub', 'b.jpg')]);
    expect(expandInputs([join(photos, 'nope.png')])).toEqual([{ path: join(photos, 'nope.png'), error: 'file not found' }]);
    rmSync(out, { recursive: true });
  });

  it('parses flags and explains the default model', () => {
    const o = parseCliArgs(['--maps', 'x.jpg', 'dir']);
    expect(o).toMatchObject({ model: 'public/models/demo', modelIsDefault: true, out: 'funduslens-out', maps: true, backend: 'wasm', cam: 'gradcam', inputs: ['x.jpg', 'dir'] });
    expect(() => parseCliArgs(['--bogus'])).toThrow();
  });

  it('--cam gradcam|hirescam: validated with a clear message; the run records cam_method in results.jsonl', async () => {
    expect(parseCliArgs(['--cam', 'hirescam', 'x.jpg']).cam).toBe('hirescam');
    expect(parseCliArgs(['--cam=gradcam', 'x.jpg']).cam).toBe('gradcam');
    expect(() => parseCliArgs(['--cam', 'HiResCAM', 'x.jpg'])).toThrow(/--cam must be one of gradcam, hirescam .*got "HiResCAM"/);
    const usage = capture();
    expect(await runCli(['--cam', 'scorecam', 'x.jpg'], { stdout: capture().sink, stderr: usage.sink })).toBe(2);
    expect(usage.text()).toMatch(/--cam must be one of gradcam, hirescam/);
    expect(usage.text()).toMatch(/--cam <method>/); // the usage that follows documents it

    const out = join(root, 'out-hires');
    const err = capture();
    const code = await runCli(['--model', bundle, '--out', out, '--maps', '--force', '--cam', 'hirescam', '--backend', 'cpu', join(photos, 'a.png')], { stdout: capture().sink, stderr: err.sink });
    expect(code).toBe(0);
    const [line] = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(line).toMatchObject({ ok: true, cam_method: 'hirescam' });
    expect(line.outlines.length).toBeGreaterThan(0); // outlines traced on the HiResCAM maps
    const m = await sharp(join(out, 'a.ma.cam.png')).metadata();
    expect([m.width, m.height, m.channels]).toEqual([200, 150, 1]);
    expect(err.text()).toMatch(/explanation map: HiResCAM/);
    // the flag reaches analyze(), not only the line: the same photo's Grad-CAM map is another picture
    const outGc = join(root, 'out-gradcam');
    expect(await runCli(['--model', bundle, '--out', outGc, '--maps', '--force', '--backend', 'cpu', join(photos, 'a.png')], { stdout: capture().sink, stderr: capture().sink })).toBe(0);
    const px = async (dir: string) => [...(await sharp(join(dir, 'a.ma.cam.png')).raw().toBuffer())];
    const [hires, grad] = [await px(out), await px(outGc)];
    expect(hires.filter((v, i) => Math.abs(v - grad[i]) > 8).length).toBeGreaterThan(100);
  });

  it('results.jsonl carries the optic disc that kept outlines away, or null', () => {
    const base = {
      quality: { gradable: true, score: 0.9, reasons: [], codes: [], measures: {} },
      forced: false,
      probabilities: { ma: 0.9, hm: 0.1, hex: 0.2, cws: 0.1, healthy: 0.05 },
      positive: { ma: true, hm: false, hex: false, cws: false, healthy: false },
      summary: 'dr-signs' as const,
      outlines: [],
      transform: { inputSize: 64, photoWidth: 100, photoHeight: 80, scale: 1, offsetX: 0, offsetY: 0 },
      fov: { found: true, cx: 50, cy: 40, radius: 38, bbox: [12, 2, 88, 78] as [number, number, number, number], circleVisibleFraction: 1, coverage: 0.5 },
      timingsMs: {},
      backend: 'cpu',
      model: 'm@1',
    };
    const withDisc = toResultLine('a.jpg', { ...base, opticDisc: { x: 20.04, y: 41.96, diameter: 11.76, confidence: 3.14159 } }, 1);
    expect(withDisc.optic_disc).toEqual({ x: 20, y: 42, diameter: 11.8, confidence: 3.1416 });
    expect(toResultLine('a.jpg', base, 1).optic_disc).toBeNull();
    expect(JSON.parse(JSON.stringify(toResultLine('a.jpg', base, 1)))).toHaveProperty('optic_disc', null);
  });

  it('overlay SVG escapes text and draws each outline in its label colour', () => {
    const svg = overlaySvg(
      {
        quality: { gradable: true, score: 0.9, reasons: [], codes: [], measures: {} },
        forced: false,
        probabilities: { ma: 0.9, hm: 0.1, hex: 0.2, cws: 0.1, healthy: 0.05 },
        positive: { ma: true, hm: false, hex: false, cws: false, healthy: false },
        summary: 'dr-signs',
        outlines: [{ label: 'ma', points: [[1, 1], [5, 1], [5, 5], [1, 1]], area: 8, score: 0.9 }],
        transform: { inputSize: 64, photoWidth: 100, photoHeight: 80, scale: 1, offsetX: 0, offsetY: 0 },
        fov: { found: true, cx: 50, cy: 40, radius: 38, bbox: [12, 2, 88, 78], circleVisibleFraction: 1, coverage: 0.5 },
        timingsMs: {},
        backend: 'cpu',
        model: 'a<b>&c@1',
      },
      [{ id: 'ma', name: 'BP/MA', plainName: 'x', colour: '#ff5ccd', threshold: 0.5 }],
      100,
      80,
    );
    expect(svg).toContain('stroke="#ff5ccd"');
    expect(svg).toContain('points="1,1 5,1 5,5 1,1"');
    expect(svg).not.toContain('a<b>');
    expect(svg).toContain('a&#60;b&#62;&#38;c@1');
  });

  it('the real entry point exits 1 when an input fails', async () => {
    const out = join(root, 'out-spawn');
    const run = promisify(execFile);
    const res = await run('npx', ['tsx', 'src/cli/analyze.ts', '--model', bundle, '--out', out, '--backend', 'cpu', join(photos, 'a.png'), join(photos, 'missing.png')], {
      cwd: join(__dirname, '../..'),
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/1 analysed, 1 failed/);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.ok)).toEqual([true, false]);
    expect(lines[1].error).toMatch(/not found/);
  });
});
