/** Model bundles on the local file system for core's loadBundle/saveBundle. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BundleReader, BundleWriter } from '../core/model/bundle';

export function fsBundleReader(dir: string): BundleReader {
  return {
    async read(path) {
      try {
        const b = await readFile(join(dir, path));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
  };
}

export function fsBundleWriter(dir: string): BundleWriter {
  return {
    async write(path, data) {
      const p = join(dir, path);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, data);
    },
  };
}
