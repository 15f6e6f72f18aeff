import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as umbrella from '@tensorflow/tfjs';
import * as core from '@tensorflow/tfjs-core';
import * as layers from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';

// In the browser build `@tensorflow/tfjs` is tfjs-lean.ts (vite.config.ts): tfjs-core and tfjs-layers only. TypeScript
// still checks against the full package, so a `tf.something` from the converter, tfjs-data or a backend package
// would compile, pass every Node test and be undefined in the app. This test is what catches it.
const ROOT = join(import.meta.dirname, '..', '..');
const lean = new Set([...Object.keys(core), ...Object.keys(layers)]);
/** run-time names of the full package that the lean one lacks (type-only names exist in neither at run time) */
const dropped = new Set(Object.keys(umbrella).filter((k) => !lean.has(k)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(f) && !/\.test(-fixtures)?\.tsx?$/.test(f) ? [p] : [];
  });
}

/** `tf.name` references in files that import the package as `tf` (the app's convention) */
function usedNames(text: string): string[] {
  if (!/import (type )?\* as tf from '@tensorflow\/tfjs';/.test(text)) return [];
  return [...new Set([...text.matchAll(/\btf\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1]))];
}

describe('tfjs-lean (the browser build of @tensorflow/tfjs)', () => {
  it('has every tf.* value that the code the app bundles uses (core, worker)', () => {
    const files = [...sources(join(ROOT, 'src', 'core')), ...sources(join(ROOT, 'src', 'worker'))];
    const missing: string[] = [];
    let checked = 0;
    for (const f of files) {
      for (const name of usedNames(readFileSync(f, 'utf8'))) {
        checked++;
        if (dropped.has(name)) missing.push(`${relative(ROOT, f)}: tf.${name}`);
      }
    }
    expect(checked).toBeGreaterThan(100); // the scan found the app's tf code at all
    expect(missing).toEqual([]);
  });

  it('leaves out what the app does not use (so the scan above has something to catch)', () => {
    for (const name of ['data', 'loadGraphModel', 'GraphModel', 'MathBackendWebGL', 'MathBackendCPU', 'webgl']) expect(dropped.has(name)).toBe(true);
    for (const name of ['tidy', 'grad', 'layers', 'model', 'io', 'loadLayersModel', 'setBackend']) expect(lean.has(name)).toBe(true);
  });
});
