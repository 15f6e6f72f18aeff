/**
 * Node file-system access to model bundles: the BundleReader/BundleWriter of src/core/model backed
 * by a directory. Used by train, export, evaluate and the CLI side of the project.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { BundleReader, BundleWriter } from '../../src/core/model/index';

/**
 * A bundle directory as reader + writer. `read` returns null for a missing file (the core loader
 * turns that into FundusLensError('model-missing-file') naming it); paths may not escape `dir`.
 */
export function fsBundle(dir: string): BundleReader & BundleWriter {
  const root = path.resolve(dir);
  const resolve = (p: string): string => {
    const full = path.resolve(root, p);
    if (full !== root && !full.startsWith(root + path.sep)) {
      throw new Error(`bundle path escapes the bundle directory: ${p}`);
    }
    return full;
  };
  return {
    async read(p: string): Promise<Uint8Array | null> {
      try {
        const buf = await fs.readFile(resolve(p));
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async write(p: string, data: Uint8Array): Promise<void> {
      const full = resolve(p);
      await fs.mkdir(path.dirname(full), { recursive: true });
      await fs.writeFile(full, data);
    },
  };
}

/** Writes JSON atomically (tmp file + rename) so a kill mid-write never leaves a torn file. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await fs.rename(tmp, file);
}

export async function readJsonIfExists<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
