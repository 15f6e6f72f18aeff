/**
 * The one place where preprocessing defaults and input limits are declared. A model's
 * metadata.json embeds `DEFAULT_PREPROCESS` (or its own variant) at export time; the app,
 * CLI and training then read the parameters from the metadata, never from here directly.
 */
import type { ClaheParams, PreprocessParams } from '../types';

/**
 * CLAHE on L* of CIELAB: equalising lightness lifts the subtle lesions (a few grey levels
 * for microaneurysms, see shared/data/lesion-stats.md) while keeping hue, which the model
 * needs to tell red lesions (MA/HM) from bright ones (HEX/CWS). Equalising only green would
 * give more vessel/lesion contrast but the output would no longer be a colour photo the
 * model (ImageNet-pretrained, paper II.C) and the clinician viewing the input can read.
 * 8x8 tiles at 512² are 64 px: about 0.8 disc diameters, i.e. local enough to follow the
 * vignetting but wide enough to hold a lesion and its surround. Clip limit 2 is OpenCV's
 * customary value and keeps noise amplification bounded.
 */
export const DEFAULT_CLAHE: ClaheParams = Object.freeze({ channel: 'lab-l', tileGrid: 8, clipLimit: 2 }) as ClaheParams;

/** Paper II.B: 512×512 input, values in [0, 1], CLAHE. The margin keeps the FOV rim off the frame edge. */
export const DEFAULT_PREPROCESS: PreprocessParams = Object.freeze({
  inputSize: 512,
  clahe: DEFAULT_CLAHE,
  fovMargin: 0.02,
}) as PreprocessParams;

/** Smallest accepted photo side (pixels). Below this nothing clinically useful survives. */
export const MIN_IMAGE_SIDE = 32;
/** Largest accepted photo (pixels): 100 MP, well above any fundus camera (~24 MP). */
export const MAX_IMAGE_PIXELS = 100_000_000;
/** Longest side of the working copy FOV detection runs on. */
export const FOV_WORK_SIDE = 512;
