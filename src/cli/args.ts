/**
 * Command-line parsing for `npm run analyze`. Kept separate from the run so the flags can be
 * tested without loading tfjs.
 */
import { parseArgs } from 'node:util';
import { CAM_METHODS, type CamMethod } from '../core/types';

export const DEFAULT_MODEL_DIR = 'public/models/demo';
export const DEFAULT_OUT_DIR = 'funduslens-out';
export const BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKENDS)[number];
export { CAM_METHODS };

export interface CliOptions {
  model: string;
  /** true when --model was not given (the error message then explains how to pass one). */
  modelIsDefault: boolean;
  out: string;
  maps: boolean;
  force: boolean;
  backend: BackendName;
  /** class-activation map behind the outlines and the --maps PNGs (default gradcam, the paper's) */
  cam: CamMethod;
  inputs: string[];
  help: boolean;
}

export const USAGE = `Usage: npm run analyze -- [options] <image files or folders…>

Screens colour fundus photos for signs of diabetic retinopathy (a screening aid, not a diagnosis).

Options:
  --model <dir>      model bundle folder (metadata.json, model.json, weight shards); default ${DEFAULT_MODEL_DIR}
  --out <dir>        output folder (results.jsonl, overlays, maps); default ./${DEFAULT_OUT_DIR}
  --maps             also write each lesion label's class-activation map (--cam) as <image>.<label>.cam.png (8-bit, photo size)
  --cam <method>     gradcam (default, the paper's Grad-CAM) | hirescam (HiResCAM: gradient kept per cell;
                     pointed at lesions more often on synthetic test photos). Outlines and --maps use it.
  --force            analyse photos the quality gate rejects (results are marked "forced")
  --backend <name>   wasm (default) | cpu | tensorflow (needs @tensorflow/tfjs-node installed)
  -h, --help         show this help

Reads JPEG, PNG, TIFF and WebP (EXIF orientation applied). Folders are searched recursively.
Writes one JSON line per input to <out>/results.jsonl and <out>/<image>.overlay.png.
Exit code: 0 all inputs analysed, 1 some input failed, 2 bad usage or no model/backend.`;

/** Parses argv (without node and script). Throws Error with a usage hint on bad flags. */
export function parseCliArgs(argv: string[]): CliOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      maps: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      backend: { type: 'string', default: 'wasm' },
      cam: { type: 'string', default: 'gradcam' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const backend = values.backend as string;
  if (!(BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`);
  }
  const cam = values.cam as string;
  if (!(CAM_METHODS as readonly string[]).includes(cam)) {
    throw new Error(`--cam must be one of ${CAM_METHODS.join(', ')} (gradcam = the paper's Grad-CAM, hirescam = HiResCAM), got "${cam}"`);
  }
  return {
    model: values.model ?? DEFAULT_MODEL_DIR,
    modelIsDefault: values.model === undefined,
    out: values.out ?? DEFAULT_OUT_DIR,
    maps: values.maps as boolean,
    force: values.force as boolean,
    backend: backend as BackendName,
    cam: cam as CamMethod,
    inputs: positionals,
    help: values.help as boolean,
  };
}
