/** Expands the command line's files and folders into the list of images to analyse. */
import { readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp']);

export interface InputItem {
  /** the path as given (files) or as found under a given folder */
  path: string;
  /** set when the path itself cannot be read (reported as a failed input, the run goes on) */
  error?: string;
}

/**
 * Files are taken as given (whatever their extension: a wrong one fails at decode, visibly);
 * folders are walked recursively in sorted order, keeping only image extensions so that
 * e.g. a previous results.jsonl in the folder is not reported as a broken photo.
 * Folders listed in `skipDirs` (the output folder) are not walked: a second run must not
 * analyse the first run's overlay PNGs.
 */
export function expandInputs(paths: string[], skipDirs: string[] = []): InputItem[] {
  const out: InputItem[] = [];
  const skip = new Set(skipDirs.map((d) => resolve(d)));
  const walk = (dir: string): void => {
    if (skip.has(resolve(dir))) return;
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      let st;
      try {
        st = statSync(p);
      } catch (e) {
        out.push({ path: p, error: `cannot read: ${(e as Error).message}` });
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) out.push({ path: p });
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push({ path: p, error: 'file not found' });
      continue;
    }
    if (st.isDirectory()) walk(p);
    else out.push({ path: p });
  }
  return out;
}
