/**
 * Field-of-view detection (paper II.B: remove the black background and the burnt-in
 * technical text around the retina). Works on a ≤512 px area-averaged copy, so a 12 MP
 * photo costs one streaming pass plus a few cheap passes over 0.2 MP.
 *
 * Method: threshold brightness between background and retina levels, keep the largest
 * connected bright region (text in the corners is separate from the retina disc), collect
 * its sub-pixel rim points except where the rim is the photo edge (4:3 cameras cut the disc
 * at top and bottom), and fit a circle to them robustly (notches and text touching the rim
 * are rejected as outliers). Plausibility checks turn anything that is not a bright disc on
 * a dark surround into `found: false`.
 */
import { scratchSlot } from '../scratch';
import type { FieldOfView, RgbImage } from '../types';
import { FOV_WORK_SIDE } from './params';
import { resampleArea } from './resample';
import { kthSmallest } from './select';
import { validateImage } from './validate';

/** A brightness image at working scale plus its mapping to photo pixels (x_photo = x * scale). */
interface WorkImage {
  w: number;
  h: number;
  scale: number;
  v: Float32Array;
}

/** the work image's RGB, read only to make `v`, and the other per-photo temporaries below (scratch.ts) */
const WORK_RGB = scratchSlot(), WORK_V = scratchSlot();
const RAW = scratchSlot(), LABEL = scratchSlot(), STACK = scratchSlot(), COMPONENT = scratchSlot();

function workImage(img: RgbImage): WorkImage {
  const scale = Math.max(1, Math.max(img.width, img.height) / FOV_WORK_SIDE);
  const w = Math.max(1, Math.round(img.width / scale));
  const h = Math.max(1, Math.round(img.height / scale));
  // Exact per-axis scale so the work grid spans the photo exactly.
  const rgb = resampleArea(img, w, h, scale, 0, 0, WORK_RGB.f32(w * h * 3));
  const v = WORK_V.f32(w * h);
  // Max channel: the retina is bright in red even where green/blue vanish (vignetted rim,
  // dark photos); the background is dark in all three.
  for (let i = 0; i < w * h; i++) v[i] = Math.max(rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]);
  return { w, h, scale, v };
}

/** The value at rank round(p·(n−1)) of the ascending order (no full sort: see select.ts). */
function percentile(values: Float32Array, p: number): number {
  if (values.length === 0) return 0;
  const i = Math.min(values.length - 1, Math.max(0, Math.round(p * (values.length - 1))));
  return kthSmallest(values, i);
}

/** Otsu threshold on a 256-bin histogram of values in 0..255. */
function otsu(v: Float32Array): number {
  const hist = new Float64Array(256);
  for (let i = 0; i < v.length; i++) hist[Math.min(255, Math.max(0, Math.floor(v[i])))]++;
  let total = 0, sumAll = 0;
  for (let i = 0; i < 256; i++) { total += hist[i]; sumAll += i * hist[i]; }
  let wB = 0, sumB = 0, best = 0, bestT = 0;
  for (let t = 0; t < 256; t++) {
    wB += hist[t];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t];
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) { best = between; bestT = t + 1; }
  }
  return bestT;
}

/** Largest 4-connected component of `mask` (1 = set), as a 0/1 mask (scratch: valid until the next call) and its size. */
function largestComponent(mask: Uint8Array, w: number, h: number): { mask: Uint8Array; size: number } {
  const label = LABEL.i32(w * h).fill(0);
  const stack = STACK.i32(w * h);
  let bestLabel = 0, bestSize = 0, next = 0;
  for (let s = 0; s < w * h; s++) {
    if (!mask[s] || label[s]) continue;
    next++;
    let sp = 0, size = 0;
    stack[sp++] = s;
    label[s] = next;
    while (sp > 0) {
      const p = stack[--sp];
      size++;
      const x = p % w, y = (p - x) / w;
      if (x > 0 && mask[p - 1] && !label[p - 1]) { label[p - 1] = next; stack[sp++] = p - 1; }
      if (x < w - 1 && mask[p + 1] && !label[p + 1]) { label[p + 1] = next; stack[sp++] = p + 1; }
      if (y > 0 && mask[p - w] && !label[p - w]) { label[p - w] = next; stack[sp++] = p - w; }
      if (y < h - 1 && mask[p + w] && !label[p + w]) { label[p + w] = next; stack[sp++] = p + w; }
    }
    if (size > bestSize) { bestSize = size; bestLabel = next; }
  }
  const out = COMPONENT.u8(w * h);
  for (let i = 0; i < w * h; i++) out[i] = label[i] === bestLabel && bestLabel > 0 ? 1 : 0;
  return { mask: out, size: bestSize };
}

interface Circle { cx: number; cy: number; r: number }

/** Algebraic (Kåsa) least-squares circle through points, optionally weighted 0/1. */
function fitCircle(xs: Float64Array, ys: Float64Array, use: Uint8Array): Circle | null {
  let n = 0, mx = 0, my = 0;
  for (let i = 0; i < xs.length; i++) if (use[i]) { n++; mx += xs[i]; my += ys[i]; }
  if (n < 5) return null;
  mx /= n; my /= n;
  // Centred coordinates keep the normal equations well conditioned.
  let suu = 0, svv = 0, suv = 0, suuu = 0, svvv = 0, suvv = 0, svuu = 0;
  for (let i = 0; i < xs.length; i++) {
    if (!use[i]) continue;
    const u = xs[i] - mx, v = ys[i] - my;
    suu += u * u; svv += v * v; suv += u * v;
    suuu += u * u * u; svvv += v * v * v; suvv += u * v * v; svuu += v * u * u;
  }
  const det = suu * svv - suv * suv;
  if (Math.abs(det) < 1e-9) return null;
  const a = 0.5 * (suuu + suvv);
  const b = 0.5 * (svvv + svuu);
  const uc = (a * svv - b * suv) / det;
  const vc = (b * suu - a * suv) / det;
  const r = Math.sqrt(uc * uc + vc * vc + (suu + svv) / n);
  return { cx: uc + mx, cy: vc + my, r };
}

/** Area of the disc (cx, cy, r) inside the rectangle [0, W) × [0, H), by strip integration. */
export function circleAreaInRect(cx: number, cy: number, r: number, W: number, H: number): number {
  const x0 = Math.max(0, cx - r), x1 = Math.min(W, cx + r);
  if (x1 <= x0 || r <= 0) return 0;
  const steps = 2048;
  const dx = (x1 - x0) / steps;
  let area = 0;
  for (let i = 0; i < steps; i++) {
    const x = x0 + (i + 0.5) * dx;
    const half = Math.sqrt(Math.max(0, r * r - (x - cx) * (x - cx)));
    const y0 = Math.max(0, cy - half), y1 = Math.min(H, cy + half);
    if (y1 > y0) area += (y1 - y0) * dx;
  }
  return area;
}

/** Builds a FieldOfView record for a circle in photo pixels. */
export function fovFromCircle(cx: number, cy: number, radius: number, W: number, H: number, found = true): FieldOfView {
  const inside = circleAreaInRect(cx, cy, radius, W, H);
  return {
    found,
    cx,
    cy,
    radius,
    bbox: [
      Math.max(0, Math.floor(cx - radius)),
      Math.max(0, Math.floor(cy - radius)),
      Math.min(W, Math.ceil(cx + radius)),
      Math.min(H, Math.ceil(cy + radius)),
    ],
    circleVisibleFraction: inside / (Math.PI * radius * radius),
    coverage: inside / (W * H),
  };
}

/** The "nothing found" FOV: the circle circumscribing the frame, so crops keep the whole photo. */
export function wholeFrameFov(W: number, H: number): FieldOfView {
  return {
    found: false,
    cx: W / 2,
    cy: H / 2,
    radius: Math.max(W, H) / 2,
    bbox: [0, 0, W, H],
    circleVisibleFraction: (W * H) / (Math.PI * (Math.max(W, H) / 2) ** 2),
    coverage: 1,
  };
}

/** Diagnostics of the last detection, for the quality gate and calibration. */
export interface FovDiagnostics {
  /** threshold used on max(R,G,B), 0..255 */
  threshold: number;
  /** rim points used / collected */
  inlierFraction: number;
  /** RMS distance of inliers from the circle, in work pixels */
  rmsResidual: number;
  /** fraction of 36 angular sectors that hold inlier rim points */
  angularCoverage: number;
  /** IoU between the bright region and the circle (both clipped to the frame) */
  iou: number;
  /** mean brightness outside the circle / inside it (0 = black surround) */
  surroundRatio: number;
  /** why detection failed, when it did */
  failure?: string;
}

/**
 * Finds the circular (possibly top/bottom-cut) retina region of a fundus photo.
 * Runs on an area-averaged copy whose longest side is 512 px, so it is fast on 12 MP photos;
 * the result is in photo pixels. Returns `found: false` (describing the whole frame) when no
 * plausible retina disc on a dark surround is present.
 * @throws FundusLensError for malformed images (see validateImage).
 */
export function detectFov(img: RgbImage): FieldOfView {
  return detectFovWithDiagnostics(img).fov;
}

/** detectFov plus the measures behind its decision (used by the quality gate). */
export function detectFovWithDiagnostics(img: RgbImage): { fov: FieldOfView; diag: FovDiagnostics } {
  validateImage(img);
  const W = img.width, H = img.height;
  const wk = workImage(img);
  const { v } = wk;
  const diag: FovDiagnostics = { threshold: 0, inlierFraction: 0, rmsResidual: Infinity, angularCoverage: 0, iou: 0, surroundRatio: 1 };
  const fail = (why: string) => ({ fov: wholeFrameFov(W, H), diag: { ...diag, failure: why } });

  const lo = percentile(v, 0.02);
  const hi = percentile(v, 0.98);
  if (hi - lo < 8) return fail('flat image');
  // First try a threshold low on the way up (keeps the dim, vignetted rim inside the FOV);
  // if flare around the aperture (amplified in over-exposed photos) spoils the rim, retry
  // higher up the step.
  let first: { fov: FieldOfView; diag: FovDiagnostics } | null = null;
  for (const frac of [0.12, 0.3]) {
    const r = fitAtThreshold(img, wk, Math.max(Math.min(otsu(v), lo + frac * (hi - lo)), lo + 4));
    if (r.fov.found) return r;
    first ??= r;
  }
  return first!;
}

function fitAtThreshold(img: RgbImage, wk: WorkImage, t: number): { fov: FieldOfView; diag: FovDiagnostics } {
  const W = img.width, H = img.height;
  const { w, h, v } = wk;
  const diag: FovDiagnostics = { threshold: 0, inlierFraction: 0, rmsResidual: Infinity, angularCoverage: 0, iou: 0, surroundRatio: 1 };
  const fail = (why: string) => ({ fov: wholeFrameFov(W, H), diag: { ...diag, failure: why } });
  diag.threshold = t;
  const raw = RAW.u8(w * h);
  for (let i = 0; i < w * h; i++) raw[i] = v[i] > t ? 1 : 0;
  const { mask, size } = largestComponent(raw, w, h);
  if (size < 0.05 * w * h) return fail('no large bright region');

  // Rim points: first/last set pixel per row and per column, with sub-pixel threshold
  // crossing; skipped where the region reaches the photo edge (that rim is the frame).
  const px: number[] = [], py: number[] = [];
  const cross = (a: number, b: number) => { const d = b - a; return d !== 0 ? Math.min(1, Math.max(0, (t - a) / d)) : 0.5; };
  for (let y = 0; y < h; y++) {
    let x0 = -1, x1 = -1;
    for (let x = 0; x < w; x++) if (mask[y * w + x]) { if (x0 < 0) x0 = x; x1 = x; }
    if (x0 < 0) continue;
    if (x0 > 0) { px.push(x0 - 0.5 + cross(v[y * w + x0 - 1], v[y * w + x0])); py.push(y + 0.5); }
    if (x1 < w - 1) { px.push(x1 + 0.5 + cross(v[y * w + x1], v[y * w + x1 + 1])); py.push(y + 0.5); }
  }
  for (let x = 0; x < w; x++) {
    let y0 = -1, y1 = -1;
    for (let y = 0; y < h; y++) if (mask[y * w + x]) { if (y0 < 0) y0 = y; y1 = y; }
    if (y0 < 0) continue;
    if (y0 > 0) { px.push(x + 0.5); py.push(y0 - 0.5 + cross(v[(y0 - 1) * w + x], v[y0 * w + x])); }
    if (y1 < h - 1) { px.push(x + 0.5); py.push(y1 + 0.5 + cross(v[y1 * w + x], v[(y1 + 1) * w + x])); }
  }
  if (px.length < 20) return fail('no rim: the bright region fills the frame');
  const xs = Float64Array.from(px), ys = Float64Array.from(py);
  const use = new Uint8Array(xs.length).fill(1);
  let c = fitCircle(xs, ys, use);
  // Trimmed refits: notches, text touching the rim and corner artefacts are outliers.
  for (let it = 0; it < 6 && c; it++) {
    const res = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) res[i] = Math.abs(Math.hypot(xs[i] - c.cx, ys[i] - c.cy) - c.r);
    const med = kthSmallest(res, Math.floor(res.length / 2));
    const tol = Math.max(1.0, 3 * 1.4826 * med);
    for (let i = 0; i < xs.length; i++) use[i] = res[i] <= tol ? 1 : 0;
    const next = fitCircle(xs, ys, use);
    if (!next) break;
    c = next;
  }
  if (!c || !Number.isFinite(c.r)) return fail('no circle fits the rim');

  let nIn = 0, ss = 0;
  const sectors = new Uint8Array(36);
  for (let i = 0; i < xs.length; i++) {
    const d = Math.hypot(xs[i] - c.cx, ys[i] - c.cy) - c.r;
    if (Math.abs(d) <= 1.5) {
      nIn++; ss += d * d;
      const a = Math.atan2(ys[i] - c.cy, xs[i] - c.cx);
      sectors[Math.min(35, Math.floor(((a + Math.PI) / (2 * Math.PI)) * 36))] = 1;
    }
  }
  diag.inlierFraction = nIn / xs.length;
  diag.rmsResidual = nIn > 0 ? Math.sqrt(ss / nIn) : Infinity;
  diag.angularCoverage = sectors.reduce((a, b) => a + b, 0) / 36;

  // Agreement between the bright region and the fitted disc, and darkness around it.
  let inter = 0, union = 0, sumIn = 0, nInPix = 0, sumOut = 0, nOutPix = 0;
  const r2 = c.r * c.r;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x + 0.5 - c.cx, dy = y + 0.5 - c.cy;
      const inC = dx * dx + dy * dy <= r2 ? 1 : 0;
      const m = mask[y * w + x];
      inter += inC & m;
      union += inC | m;
      if (inC) { sumIn += v[y * w + x]; nInPix++; } else { sumOut += v[y * w + x]; nOutPix++; }
    }
  }
  diag.iou = union > 0 ? inter / union : 0;
  const meanIn = nInPix > 0 ? sumIn / nInPix : 0;
  const meanOut = nOutPix > 0 ? sumOut / nOutPix : 0;
  diag.surroundRatio = meanIn > 0 ? meanOut / meanIn : 1;

  const minSide = Math.min(w, h);
  if (c.r < 0.2 * minSide) return fail('bright region too small to be a retina');
  if (c.cx < 0 || c.cx > w || c.cy < 0 || c.cy > h) return fail('circle centre outside the photo');
  if (c.r > 0.75 * Math.hypot(w, h)) return fail('circle far larger than the photo');
  if (diag.inlierFraction < 0.35) return fail('rim is not circular');
  if (diag.angularCoverage < 0.25) return fail('rim covers too little of a circle');
  if (diag.iou < 0.85) return fail('bright region is not a disc');
  if (diag.surroundRatio > 0.35) return fail('surround is not dark');

  const s = wk.scale;
  return { fov: fovFromCircle(c.cx * s, c.cy * s, c.r * s, W, H), diag };
}
