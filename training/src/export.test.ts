/**
 * Export helpers that shape what ships in public/models: metadata patches (reviewed model-card
 * text), stripping this machine's paths, and carrying evaluation reports + charts with the bundle.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMetadataPatch, buildMetadata, relativisePaths, writeReportAssets } from './export';

const base = buildMetadata({
  name: 'm',
  version: '1.0.0',
  arch: { arch: 'compact', width: 8, blocks: [1] },
  inputSize: 64,
  thresholds: { ma: 0.4 },
  datasets: ['synthetic set'],
  counts: { train: 10, val: 2 },
  epochs: 1,
  backend: 'cpu',
  wallSeconds: 3,
  evaluation: [],
  extra: { options: { data: '/home/u/fl/training/data', out: '/home/u/fl' } },
});

describe('applyMetadataPatch', () => {
  it('replaces top-level fields, merges training and appends limitations', () => {
    const n = base.limitations.length;
    const m = applyMetadataPatch(base, { intendedUse: 'demo only', training: { summary: 'two phases' }, limitations: { append: ['weak on real photos'] } });
    expect(m.intendedUse).toBe('demo only');
    expect(m.training.summary).toBe('two phases');
    expect(m.training.epochs).toBe(1); // merged, not replaced
    expect(m.limitations).toHaveLength(n + 1);
    expect(m.limitations[n]).toBe('weak on real photos');
    expect(base.intendedUse).not.toBe('demo only'); // input untouched
  });
  it('refuses to patch hashes or the schema version', () => {
    expect(() => applyMetadataPatch(base, { schemaVersion: 2 })).toThrow(/schemaVersion/);
  });
});

describe('relativisePaths', () => {
  it('strips the checkout path from nested strings only', () => {
    const m = relativisePaths(base, '/home/u/fl');
    const opts = (m.training as unknown as { options: { data: string; out: string } }).options;
    expect(opts.data).toBe('./training/data');
    expect(opts.out).toBe('.');
    expect(m.inputSize).toBe(64);
    expect(relativisePaths('/elsewhere/x', '/home/u/fl')).toBe('/elsewhere/x');
    expect(relativisePaths('data: /home/u/shared/data/idrid', '/home/u/fl')).toBe('data: ../shared/data/idrid');
  });
});

describe('writeReportAssets', () => {
  it('copies charts, prefixes the second evaluation and rewrites its links', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'fl-export-'));
    const e1 = path.join(root, 'e1');
    const e2 = path.join(root, 'e2');
    const out = path.join(root, 'out');
    for (const d of [e1, e2, out]) await fs.mkdir(d, { recursive: true });
    await fs.writeFile(path.join(e1, 'roc-ma.svg'), '<svg id="1"/>');
    await fs.writeFile(path.join(e1, 'report.md'), `# Synthetic\n![roc](roc-ma.svg)\nran in ${root}/e1\n`);
    await fs.writeFile(path.join(e2, 'roc-ma.svg'), '<svg id="2"/>');
    await fs.writeFile(path.join(e2, 'report.md'), '# Real\n## Table\n![roc](roc-ma.svg)\n');
    await writeReportAssets(out, [{ dir: e1, title: 'synth' }, { dir: e2, title: 'real' }], 'm 1.0.0 — evaluation', root);
    expect(await fs.readFile(path.join(out, 'roc-ma.svg'), 'utf8')).toBe('<svg id="1"/>');
    expect(await fs.readFile(path.join(out, 'eval2-roc-ma.svg'), 'utf8')).toBe('<svg id="2"/>');
    const md = await fs.readFile(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^# m 1\.0\.0 — evaluation/);
    expect(md).toContain('## Synthetic');
    expect(md).toContain('### Table');
    expect(md).toContain('(eval2-roc-ma.svg)');
    expect(md).toContain('ran in ./e1');
    expect(md).not.toContain(root);
  });
});
