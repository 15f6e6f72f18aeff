/**
 * Synthetic colour fundus photographs with exact lesion masks.
 *
 * One call renders one photo at its output size: a circular field of view on black (cut at
 * top and bottom the way 4:3 / 3:2 cameras cut it), an orange-red retina with illumination
 * fall-off and choroidal texture, optic disc with cup, macula and fovea, a branching vessel
 * tree (arcades from the disc), lesions sized in disc diameters (DD) after
 * /work/shared/data/lesion-stats.md, confounders that are NOT lesions (vessel crossings,
 * bright reflexes, dust, pigment dots), then the camera: colour cast, exposure, gamma, blur,
 * noise and a burnt-in caption.
 *
 * Everything is drawn from one seeded stream, so (spec, seed) → identical pixels.
 */
import type { LabelId, LesionLabelId, RgbImage } from '../../../src/core/types';
import { LESION_LABEL_IDS } from '../../../src/core/types';
import { Rng, gaussianTable, sigmaFromP90 } from './prng';
import { blurPlanes, clamp, createPlanes, drawSegment, smoothstep, valueNoise, type Planes } from './raster';
import { cameraCaption, drawText, textWidth } from './font';

/** Ways a synthetic photo is made ungradable (names match the quality gate's codes). */
export type UngradableKind = 'too-dark' | 'too-bright' | 'blurred' | 'noisy' | 'low-contrast';
export const UNGRADABLE_KINDS: readonly UngradableKind[] = ['too-dark', 'too-bright', 'blurred', 'noisy', 'low-contrast'];

/** What to render. `lesions[l]` true → at least one lesion of type l is drawn (and its mask is non-empty). */
export interface FundusSpec {
  width: number;
  height: number;
  lesions: Record<LesionLabelId, boolean>;
  /** null → a normal, gradable photo */
  ungradable: UngradableKind | null;
  /** scale of lesion counts (1 ≈ the median IDRiD photo); sampled when omitted */
  severity?: number;
}

/** Ground-truth geometry in photo pixels. */
export interface SynthGeometry {
  eye: 'OD' | 'OS';
  fov: { cx: number; cy: number; radius: number };
  disc: { x: number; y: number; diameter: number };
  fovea: { x: number; y: number };
  /** one disc diameter in pixels (the lesion-size unit of lesion-stats.md) */
  dd: number;
}

/** One drawn lesion (nominal centre and equivalent diameter, photo pixels). */
export interface LesionRecord {
  label: LesionLabelId;
  x: number;
  y: number;
  diameter: number;
}

export interface SynthFundus {
  image: RgbImage & { channels: 3; data: Uint8Array };
  /** per lesion type, 0/1 per pixel, same size as the image */
  masks: Record<LesionLabelId, Uint8Array>;
  /** derived from the masks: a lesion label is 1 exactly when its mask has a foreground pixel */
  labels: Record<LabelId, 0 | 1>;
  gradable: boolean;
  quality: 'good' | UngradableKind;
  geometry: SynthGeometry;
  lesions: LesionRecord[];
  caption: string;
}

/**
 * The largest red spot, in DD, that belongs to the paper's BP/MA element ("small bleeding point or
 * microaneurysm", §III): about 125 µm for a 1.8 mm disc, the classical microaneurysm limit, and the
 * largest IDRiD microaneurysm component. Red spots up to this size are `ma`, larger ones `hm`.
 *
 * Why: IDRiD's experts mark small dot haemorrhages as haemorrhage, so its HM sizes start at 0.03 DD and
 * a third of them are microaneurysm-sized. Drawn that way (generator ≤ 0.2.0), an image with only
 * haemorrhages carries ~7 red dots that look exactly like microaneurysms, and no model can tell
 * `ma` from `hm` there (0.2.0's ma AUC was 0.58 on ma-negative images with haemorrhages, 0.97 on the
 * others). The paper's element annotation puts those small bleeding points in BP/MA.
 */
export const BP_MA_MAX_DD = 0.07;

// ---- calibration from lesion-stats.md (sizes in DD: p50, p90; counts: median, max) ----
// hm keeps the IDRiD log-normal fit but only its part above BP_MA_MAX_DD (drawn by rejection, not
// clamped, so no sizes pile up at the limit); that is half of the fit, hence half the count.
const SIZE = {
  ma: { p50: 0.033, sigma: sigmaFromP90(0.033, 0.051), min: 0.014, max: BP_MA_MAX_DD },
  hm: { p50: 0.07, sigma: sigmaFromP90(0.07, 0.175), min: BP_MA_MAX_DD, max: 0.45 },
  hex: { p50: 0.035, sigma: sigmaFromP90(0.035, 0.084), min: 0.012, max: 0.22 },
  cws: { p50: 0.185, sigma: 0.3, min: 0.09, max: 0.34 },
} as const;
const COUNT = {
  ma: { median: 40, max: 125 },
  hm: { median: 12, max: 40 },
  hex: { median: 156, max: 476 },
  cws: { median: 3, max: 9 },
} as const;

interface Pt {
  x: number;
  y: number;
  w: number;
}
interface Vessel {
  pts: Pt[];
  artery: boolean;
  main: boolean;
  temporal: boolean;
}

interface Ctx {
  rng: Rng;
  W: number;
  H: number;
  geo: SynthGeometry;
  pl: Planes;
  masks: Record<LesionLabelId, Uint8Array>;
  lesions: LesionRecord[];
  vessels: Vessel[];
}

/** Colour operation of a lesion/confounder: c' = c·(1 + a·(mul − 1)) + a·add, per channel. */
interface ColourOp {
  mul: [number, number, number];
  add: [number, number, number];
}

const OP = {
  ma: { mul: [0.8, 0.66, 0.7], add: [0, 0, 0] },
  hm: { mul: [0.78, 0.6, 0.65], add: [0, 0, 0] },
  hex: { mul: [1.06, 1.3, 1.1], add: [20, 30, 2] },
  cws: { mul: [1.06, 1.32, 1.3], add: [18, 40, 14] },
  dust: { mul: [0.8, 0.78, 0.8], add: [0, 0, 0] },
  pigment: { mul: [0.7, 0.74, 0.85], add: [0, 0, 0] },
  reflex: { mul: [1.06, 1.12, 1.2], add: [14, 18, 16] },
} satisfies Record<string, ColourOp>;

/**
 * Draw a soft/hard ellipse blob: alpha from the normalised elliptical distance e (1 at the
 * nominal edge), `soft` the half-width of the edge ramp in units of e (at least ~0.7 px so
 * tiny lesions stay anti-aliased). `gauss` gives a Gaussian-like fluffy profile instead of a
 * flat top. Pixels with e ≤ 1 (plus always the centre pixel) go into `mask` when given.
 */
function blob(
  c: Ctx,
  x: number,
  y: number,
  rx: number,
  ry: number,
  angle: number,
  soft: number,
  strength: number,
  op: ColourOp,
  mask: Uint8Array | null,
  gauss = false,
): void {
  const { W, H, pl } = c;
  const rmin = Math.max(0.35, Math.min(rx, ry));
  const s = Math.max(soft, 0.7 / rmin);
  const reach = Math.max(rx, ry) * (1 + s) + 1.5;
  const x0 = Math.max(0, Math.floor(x - reach));
  const x1 = Math.min(W - 1, Math.ceil(x + reach));
  const y0 = Math.max(0, Math.floor(y - reach));
  const y1 = Math.min(H - 1, Math.ceil(y + reach));
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  const irx = 1 / Math.max(rx, 0.35);
  const iry = 1 / Math.max(ry, 0.35);
  const [mr, mg, mb] = op.mul;
  const [ar, ag, ab] = op.add;
  const { fov } = c.geo;
  const fr2 = (fov.radius - 1) * (fov.radius - 1);
  for (let py = y0; py <= y1; py++) {
    const dy = py + 0.5 - y;
    for (let px = x0; px <= x1; px++) {
      const dx = px + 0.5 - x;
      const u = (dx * ca + dy * sa) * irx;
      const v = (-dx * sa + dy * ca) * iry;
      const e = Math.sqrt(u * u + v * v);
      if (e > 1 + s) continue;
      const i = py * W + px;
      const fx = px + 0.5 - fov.cx;
      const fy = py + 0.5 - fov.cy;
      if (fx * fx + fy * fy > fr2) continue;
      let a = gauss ? Math.exp(-1.6 * e * e) * (1 - smoothstep(1, 1 + s, e)) : 1 - smoothstep(1 - s, 1 + s, e);
      a *= strength;
      if (a > 0.002) {
        pl.r[i] = pl.r[i] * (1 + a * (mr - 1)) + a * ar;
        pl.g[i] = pl.g[i] * (1 + a * (mg - 1)) + a * ag;
        pl.b[i] = pl.b[i] * (1 + a * (mb - 1)) + a * ab;
      }
      if (mask && e <= 1) mask[i] = 1;
    }
  }
  if (mask) {
    const cx = Math.floor(x);
    const cy = Math.floor(y);
    if (cx >= 0 && cx < W && cy >= 0 && cy < H) mask[cy * W + cx] = 1;
  }
}

// ---------------------------------------------------------------- geometry
function makeGeometry(rng: Rng, W: number, H: number): SynthGeometry {
  const aspect = W / H;
  const cut = aspect > 1.15 && rng.chance(0.65);
  let radius = cut ? (H / 2) * rng.uniform(1.04, 1.22) : (Math.min(W, H) / 2) * rng.uniform(0.88, 0.98);
  radius = Math.min(radius, (W / 2) * 0.97);
  const cx = W / 2 + rng.normal() * 0.008 * W;
  const cy = H / 2 + rng.normal() * (cut ? 0.01 : 0.006) * H;
  const dd = 0.155 * 2 * radius * rng.uniform(0.9, 1.1);
  const eye: 'OD' | 'OS' = rng.chance(0.5) ? 'OD' : 'OS';
  // OD (right eye) photos show the disc on the viewer's right, nasal to the fovea.
  const side = eye === 'OD' ? 1 : -1;
  const tilt = (rng.normal() * 5 * Math.PI) / 180;
  const sep = rng.uniform(2.25, 2.7) * dd;
  const lift = rng.uniform(0.05, 0.45) * dd; // the disc sits a little above the fovea
  let fx = cx - side * rng.uniform(-0.05, 0.3) * radius;
  let fy = cy + rng.normal() * 0.04 * radius + lift * 0.5;
  let dx = fx + side * (sep * Math.cos(tilt));
  let dy = fy - lift + sep * Math.sin(tilt);
  // keep the whole disc inside the field
  const maxOff = radius - 0.75 * dd;
  const off = Math.hypot(dx - cx, dy - cy);
  if (off > maxOff) {
    const shift = off - maxOff;
    const ux = (dx - cx) / off;
    const uy = (dy - cy) / off;
    dx -= ux * shift;
    dy -= uy * shift;
    fx -= ux * shift;
    fy -= uy * shift;
  }
  return { eye, fov: { cx, cy, radius }, disc: { x: dx, y: dy, diameter: dd }, fovea: { x: fx, y: fy }, dd };
}

// ---------------------------------------------------------------- background, disc, macula
function paintBackground(c: Ctx): void {
  const { rng, W, H, pl, geo } = c;
  const { cx, cy, radius: R } = geo.fov;
  const pig = rng.next();
  const base = [rng.uniform(205, 240) - 25 * pig, rng.uniform(95, 125) - 35 * pig, rng.uniform(16, 32) - 8 * pig];
  const k1 = rng.uniform(0.12, 0.3);
  const k2 = rng.uniform(0.15, 0.4);
  const gx = rng.normal() * 0.08;
  const gy = rng.normal() * 0.08;
  const lowAmp = rng.uniform(0.04, 0.1);
  const low = valueNoise(W, H, [{ cells: rng.uniform(3, 6), amp: lowAmp }], rng);
  const texAmp = rng.uniform(0.015, 0.04);
  const fineAmp = rng.uniform(0.008, 0.02);
  const tex = valueNoise(W, H, [
    { cells: rng.uniform(22, 40), amp: texAmp },
    { cells: Math.min(Math.max(W, H) / 4, rng.uniform(90, 140)), amp: fineAmp },
  ], rng);
  const invR = 1 / R;
  const { r, g, b } = pl;
  for (let y = 0; y < H; y++) {
    const ny = (y + 0.5 - cy) * invR;
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const nx = (x + 0.5 - cx) * invR;
      const q = nx * nx + ny * ny;
      if (q > 1.01) continue;
      const rho = Math.sqrt(q);
      const edge = clamp((1 - rho) * R + 0.5, 0, 1);
      if (edge <= 0) continue;
      const i = row + x;
      const q3 = q * q * q;
      const illum = (1 - k1 * q - k2 * q3 + gx * nx + gy * ny) * (1 + low[i]) * edge;
      const t = tex[i];
      r[i] = base[0] * illum * (1 + t * 0.6);
      g[i] = base[1] * illum * (1 + t * 1.3);
      b[i] = base[2] * illum * (1 + t);
    }
  }
}

function paintMacula(c: Ctx): void {
  const { rng, W, H, pl, geo } = c;
  const { x: fx, y: fy } = geo.fovea;
  const sig = geo.dd * rng.uniform(0.5, 0.8);
  const amp = rng.uniform(0.12, 0.3);
  const reach = sig * 3;
  const y0 = Math.max(0, Math.floor(fy - reach));
  const y1 = Math.min(H - 1, Math.ceil(fy + reach));
  const x0 = Math.max(0, Math.floor(fx - reach));
  const x1 = Math.min(W - 1, Math.ceil(fx + reach));
  const inv = 1 / (2 * sig * sig);
  const pitR = geo.dd * 0.12;
  const pitInv = 1 / (2 * pitR * pitR);
  // Gaussians are separable: two 1-D tables instead of an exp per pixel
  const gx = new Float32Array(x1 - x0 + 1);
  const px = new Float32Array(x1 - x0 + 1);
  for (let x = x0; x <= x1; x++) {
    const d = x + 0.5 - fx;
    gx[x - x0] = amp * Math.exp(-d * d * inv);
    px[x - x0] = 0.08 * Math.exp(-d * d * pitInv);
  }
  for (let y = y0; y <= y1; y++) {
    const d = y + 0.5 - fy;
    const gy = Math.exp(-d * d * inv);
    const py = Math.exp(-d * d * pitInv);
    const row = y * W;
    for (let x = x0; x <= x1; x++) {
      const a = gx[x - x0] * gy + px[x - x0] * py;
      if (a < 0.002) continue;
      const i = row + x;
      pl.r[i] *= 1 - 0.55 * a;
      pl.g[i] *= 1 - a;
      pl.b[i] *= 1 - 0.9 * a;
    }
  }
  // foveal light reflex: a small bright dot, a classic confounder for exudates
  if (rng.chance(0.5)) {
    const rr = geo.dd * rng.uniform(0.02, 0.045);
    blob(c, fx + rng.normal() * 0.03 * geo.dd, fy + rng.normal() * 0.03 * geo.dd, rr, rr, 0, 0.6, rng.uniform(0.3, 0.6), OP.reflex, null, true);
  }
}

function paintDisc(c: Ctx): void {
  const { rng, W, H, pl, geo } = c;
  const { x: dx, y: dy, diameter } = geo.disc;
  const rx = (diameter / 2) * rng.uniform(0.92, 1.0);
  const ry = rx * rng.uniform(1.02, 1.12);
  const cup = rng.uniform(0.3, 0.55);
  const cupDx = -(geo.fovea.x > dx ? -1 : 1) * rx * rng.uniform(0.02, 0.15); // cup slightly temporal
  const wob = rng.uniform(0.02, 0.05);
  const ph = rng.uniform(0, 6.28);
  const bright = rng.uniform(0.55, 0.8);
  const target = [rng.uniform(240, 255), rng.uniform(160, 200), rng.uniform(85, 130)];
  const cupT = [255, rng.uniform(215, 240), rng.uniform(160, 205)];
  const cupStrength = rng.uniform(0.55, 0.85);
  const reach = ry * 1.6;
  const y0 = Math.max(0, Math.floor(dy - reach));
  const y1 = Math.min(H - 1, Math.ceil(dy + reach));
  const x0 = Math.max(0, Math.floor(dx - reach));
  const x1 = Math.min(W - 1, Math.ceil(dx + reach));
  const { fov } = geo;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const ux = x + 0.5 - dx;
      const uy = y + 0.5 - dy;
      if ((x + 0.5 - fov.cx) ** 2 + (y + 0.5 - fov.cy) ** 2 > fov.radius * fov.radius) continue;
      const th = Math.atan2(uy, ux);
      const wr = 1 + wob * Math.sin(3 * th + ph);
      const e = Math.sqrt((ux / rx) ** 2 + (uy / ry) ** 2) / wr;
      const i = y * W + x;
      // peripapillary halo, then the rim, then the pale cup
      const halo = 0.08 * (1 - smoothstep(0.95, 1.4, e));
      const rim = bright * (1 - smoothstep(0.86, 1.06, e));
      const ec = Math.sqrt(((ux - cupDx) / (rx * cup)) ** 2 + (uy / (ry * cup)) ** 2);
      const cu = cupStrength * (1 - smoothstep(0.45, 1.2, ec));
      const a = Math.max(halo, rim);
      let r = pl.r[i] + a * (target[0] - pl.r[i]);
      let g = pl.g[i] + a * (target[1] - pl.g[i]);
      let b = pl.b[i] + a * (target[2] - pl.b[i]);
      r += cu * (cupT[0] - r);
      g += cu * (cupT[1] - g);
      b += cu * (cupT[2] - b);
      pl.r[i] = r;
      pl.g[i] = g;
      pl.b[i] = b;
    }
  }
}

// ---------------------------------------------------------------- vessels
/** Arcade path in disc-local coordinates: u toward the fovea, v toward superior. */
function buildVessels(c: Ctx): void {
  const { rng, geo } = c;
  const dd = geo.dd;
  const ex = { x: geo.fovea.x - geo.disc.x, y: geo.fovea.y - geo.disc.y };
  const el = Math.hypot(ex.x, ex.y);
  ex.x /= el;
  ex.y /= el;
  // superior = image-up side of the disc→fovea axis
  let ey = { x: -ex.y, y: ex.x };
  if (ey.y > 0) ey = { x: -ey.x, y: -ey.y };
  const toImg = (u: number, v: number) => ({ x: geo.disc.x + u * ex.x + v * ey.x, y: geo.disc.y + u * ex.y + v * ey.y });
  const step = Math.max(1.5, 0.05 * dd);
  const inside = (p: { x: number; y: number }) => Math.hypot(p.x - geo.fov.cx, p.y - geo.fov.cy) < geo.fov.radius * 1.02;

  const mains: { temporal: boolean; sup: number; artery: boolean }[] = [];
  for (const temporal of [true, false]) for (const sup of [1, -1]) for (const artery of [true, false]) mains.push({ temporal, sup, artery });
  for (const m of mains) {
    const A = (m.temporal ? rng.uniform(2.1, 2.9) : rng.uniform(0.9, 1.7)) * dd + (m.artery ? rng.normal() * 0.2 * dd : 0);
    const L = (m.temporal ? rng.uniform(0.7, 1.1) : rng.uniform(0.6, 1.0)) * dd;
    const dir = m.temporal ? 1 : -1;
    const w0 = (m.artery ? rng.uniform(0.045, 0.06) : rng.uniform(0.06, 0.078)) * dd;
    const wigA = rng.uniform(0.06, 0.16) * dd;
    const wigF = rng.uniform(0.8, 1.6) / dd;
    const wigP = rng.uniform(0, 6.28);
    const wig2A = rng.uniform(0.02, 0.06) * dd;
    const wig2F = rng.uniform(2.5, 4.5) / dd;
    const wig2P = rng.uniform(0, 6.28);
    const u0 = rng.normal() * 0.025 * dd;
    const v0 = rng.normal() * 0.03 * dd;
    const conv = m.temporal ? rng.uniform(0.12, 0.3) : 0;
    const pts: Pt[] = [];
    let s = 0;
    let w = w0;
    let prev = toImg(u0, v0);
    pts.push({ ...prev, w });
    // walk along u with the arc-length step converted to du by the local slope
    let u = 0;
    for (let k = 0; k < 2000; k++) {
      const vAt = (uu: number) => {
        const base = A * Math.tanh((uu + 0.25 * dd) / L) - A * Math.tanh((0.25 * dd) / L);
        const beyond = Math.max(0, uu - 2.6 * dd);
        return v0 + m.sup * (base - conv * beyond) + (wigA * Math.sin(uu * wigF + wigP) + wig2A * Math.sin(uu * wig2F + wig2P)) * smoothstep(0, dd, uu);
      };
      const slope = (vAt(u + 0.5) - vAt(u - 0.5)) || 0;
      u += step / Math.sqrt(1 + slope * slope);
      const p = toImg(u0 + dir * u, vAt(u));
      s += Math.hypot(p.x - prev.x, p.y - prev.y);
      w = w0 * Math.max(0.3, 1 - s / (14 * dd));
      pts.push({ ...p, w });
      prev = p;
      if (!inside(p)) break;
    }
    c.vessels.push({ pts, artery: m.artery, main: true, temporal: m.temporal });
  }
  // small papillomacular vessels straight from the disc toward the macula
  const nPm = rng.int(1, 3);
  for (let k = 0; k < nPm; k++) {
    const ang = Math.atan2(ex.y, ex.x) + rng.uniform(-0.9, 0.9);
    const r0 = rng.uniform(0.05, 0.3) * dd;
    growBranch(c, geo.disc.x + Math.cos(ang) * r0, geo.disc.y + Math.sin(ang) * r0, ang, rng.uniform(0.012, 0.024) * dd, rng.chance(0.5), 2, rng.uniform(1.0, 2.2) * dd);
  }
  // branches off the main vessels (copy: growBranch appends to c.vessels)
  const mainsDrawn = c.vessels.slice(0, mains.length);
  for (const v of mainsDrawn) spawnChildren(c, v, 1);
}

function spawnChildren(c: Ctx, parent: Vessel, depth: number): void {
  const { rng, geo } = c;
  const dd = geo.dd;
  const pts = parent.pts;
  let acc = 0;
  let next = rng.uniform(0.3, 0.9) * dd;
  for (let i = 1; i < pts.length - 1; i++) {
    acc += Math.hypot(pts[i].x - pts[i - 1].x, pts[i].y - pts[i - 1].y);
    if (acc < next) continue;
    acc = 0;
    next = rng.uniform(0.35, 1.1) * dd * (depth > 1 ? 1.3 : 1);
    const p = pts[i];
    const head = Math.atan2(pts[i + 1].y - pts[i - 1].y, pts[i + 1].x - pts[i - 1].x);
    const sideSign = rng.chance(0.5) ? 1 : -1;
    const ang = head + sideSign * rng.uniform(0.45, 1.3);
    const cw = p.w * rng.uniform(0.45, 0.78);
    if (cw < 0.008 * dd) continue;
    const len = rng.uniform(25, 60) * cw * (depth === 1 ? 1.2 : 1);
    growBranch(c, p.x, p.y, ang, cw, parent.artery, depth + 1, len);
    // the parent loses calibre after giving off a branch (Murray's law, roughly)
    for (let j = i; j < pts.length; j++) pts[j].w *= 0.93;
  }
}

/** Turtle walk with a smoothly wandering curvature; avoids the foveal avascular zone. */
function growBranch(c: Ctx, x: number, y: number, heading: number, width: number, artery: boolean, depth: number, length: number): void {
  const { rng, geo } = c;
  const dd = geo.dd;
  const step = Math.max(1.2, Math.min(0.04 * dd, 3 * width + 1));
  const pts: Pt[] = [{ x, y, w: width }];
  let h = heading;
  let kappa = 0;
  const kSig = 1.1 / dd;
  let s = 0;
  let w = width;
  const w0 = width;
  while (s < length) {
    kappa = 0.9 * kappa + rng.normal() * kSig * 0.45;
    h += kappa * step;
    // steer away from the fovea: the central ~0.5 DD is free of vessels
    const fdx = x - geo.fovea.x;
    const fdy = y - geo.fovea.y;
    const fd = Math.hypot(fdx, fdy);
    if (fd < 0.9 * dd) {
      if (fd < 0.3 * dd) break;
      const away = Math.atan2(fdy, fdx);
      let diff = away - h;
      while (diff > Math.PI) diff -= 2 * Math.PI;
      while (diff < -Math.PI) diff += 2 * Math.PI;
      h += diff * 0.12;
    }
    x += Math.cos(h) * step;
    y += Math.sin(h) * step;
    s += step;
    w = w0 * (1 - 0.55 * (s / length));
    pts.push({ x, y, w });
    if (Math.hypot(x - geo.fov.cx, y - geo.fov.cy) > geo.fov.radius * 1.02) break;
  }
  if (pts.length < 3) return;
  const v: Vessel = { pts, artery, main: false, temporal: false };
  c.vessels.push(v);
  if (depth < 4 && w0 > 0.016 * dd) spawnChildren(c, v, depth);
}

function paintVessels(c: Ctx): void {
  const { W, H, pl, rng } = c;
  const A = new Float32Array(W * H);
  const V = new Float32Array(W * H);
  const dd = c.geo.dd;
  const reflexStrength = rng.uniform(0.2, 0.6);
  for (const v of c.vessels) {
    const map = v.artery ? A : V;
    const op = v.artery ? 0.85 : 1;
    let s = 0;
    for (let i = 1; i < v.pts.length; i++) {
      const p = v.pts[i - 1];
      const q = v.pts[i];
      s += Math.hypot(q.x - p.x, q.y - p.y);
      const hw = (p.w + q.w) / 4;
      const reflex = v.artery && hw * 2 > 0.035 * dd && hw > 2 ? reflexStrength : 0;
      // main trunks fade in where they leave the cup instead of ending in a blunt cap
      const fade = v.main ? 0.35 + 0.65 * smoothstep(0, 0.2 * dd, s) : 1;
      drawSegment(map, W, H, p.x, p.y, q.x, q.y, hw, op * fade, reflex);
    }
  }
  // blood absorbs green far more than red: vessels stay red, only darker
  const vr = rng.uniform(0.16, 0.28);
  const vg = rng.uniform(0.5, 0.66);
  const vb = rng.uniform(0.35, 0.5);
  const ar = rng.uniform(0.06, 0.13);
  const ag = rng.uniform(0.3, 0.44);
  const ab = rng.uniform(0.2, 0.34);
  const { r, g, b } = pl;
  for (let i = 0; i < A.length; i++) {
    const a = A[i];
    const vv = V[i];
    if (a === 0 && vv === 0) continue;
    r[i] *= (1 - ar * a) * (1 - vr * vv);
    g[i] *= (1 - ag * a) * (1 - vg * vv);
    b[i] *= (1 - ab * a) * (1 - vb * vv);
  }
}

// ---------------------------------------------------------------- lesions
function insideField(c: Ctx, x: number, y: number, margin: number): boolean {
  const { fov } = c.geo;
  if (x < margin || y < margin || x > c.W - margin || y > c.H - margin) return false;
  return Math.hypot(x - fov.cx, y - fov.cy) < fov.radius - margin;
}

/** A point on a temporal main vessel between 1.2 and 5 DD (arc length) from the disc. */
function arcadePoint(c: Ctx): { x: number; y: number; head: number } {
  const mains = c.vessels.filter((v) => v.main && v.temporal);
  const v = c.rng.pick(mains);
  const target = c.rng.uniform(1.2, 5) * c.geo.dd;
  let s = 0;
  for (let i = 1; i < v.pts.length; i++) {
    s += Math.hypot(v.pts[i].x - v.pts[i - 1].x, v.pts[i].y - v.pts[i - 1].y);
    if (s >= target || i === v.pts.length - 1) {
      const head = Math.atan2(v.pts[i].y - v.pts[i - 1].y, v.pts[i].x - v.pts[i - 1].x);
      return { x: v.pts[i].x, y: v.pts[i].y, head };
    }
  }
  return { x: c.geo.fovea.x, y: c.geo.fovea.y, head: 0 };
}

/**
 * Where lesions sit: around the macula, along the arcades, or in the posterior pole ring
 * 1.3–4.6 DD from the disc (lesion-stats.md), never on the disc.
 */
function lesionSite(c: Ctx, wMacula: number, wArcade: number): { x: number; y: number } {
  const { rng, geo } = c;
  const dd = geo.dd;
  for (let tries = 0; tries < 200; tries++) {
    const r = rng.next();
    let x: number;
    let y: number;
    if (r < wMacula) {
      const s = rng.uniform(0.8, 1.8) * dd;
      x = geo.fovea.x + rng.normal() * s;
      y = geo.fovea.y + rng.normal() * s;
    } else if (r < wMacula + wArcade) {
      const p = arcadePoint(c);
      const off = rng.normal() * 0.5 * dd;
      x = p.x - Math.sin(p.head) * off;
      y = p.y + Math.cos(p.head) * off;
    } else {
      const d = rng.uniform(1.3, 5.2) * dd;
      const a = rng.uniform(0, 2 * Math.PI);
      x = geo.disc.x + Math.cos(a) * d;
      y = geo.disc.y + Math.sin(a) * d;
    }
    const fromDisc = Math.hypot(x - geo.disc.x, y - geo.disc.y);
    if (fromDisc < 1.0 * dd) continue;
    if (!insideField(c, x, y, Math.max(2, 0.08 * dd))) continue;
    return { x, y };
  }
  return { x: geo.fovea.x + dd * 0.8, y: geo.fovea.y };
}

function lesionDiameter(c: Ctx, label: LesionLabelId): number {
  const s = SIZE[label];
  let d = c.rng.logNormal(s.p50, s.sigma);
  // hm's lower bound cuts its fit in half: redraw rather than clamp (see SIZE). 16 draws fail with
  // probability 2^-16; the clamp below is only the backstop.
  for (let k = 0; label === 'hm' && d < s.min && k < 16; k++) d = c.rng.logNormal(s.p50, s.sigma);
  return clamp(d, s.min, s.max) * c.geo.dd;
}

function lesionCount(c: Ctx, label: LesionLabelId, severity: number): number {
  const m = COUNT[label];
  const n = Math.round(m.median * severity * c.rng.logNormal(1, 0.45));
  return clamp(n, 1, m.max);
}

function record(c: Ctx, label: LesionLabelId, x: number, y: number, d: number): void {
  c.lesions.push({ label, x, y, diameter: d });
}

function drawMa(c: Ctx, n: number): void {
  const { rng } = c;
  for (let k = 0; k < n; k++) {
    const p = lesionSite(c, 0.45, 0.25);
    const d = lesionDiameter(c, 'ma');
    const asp = rng.uniform(1, 1.25);
    blob(c, p.x, p.y, (d / 2) * Math.sqrt(asp), d / 2 / Math.sqrt(asp), rng.uniform(0, 3.14), 0.3, rng.uniform(0.75, 1), OP.ma, c.masks.ma);
    record(c, 'ma', p.x, p.y, d);
  }
}

function drawHm(c: Ctx, n: number): void {
  const { rng, geo } = c;
  for (let k = 0; k < n; k++) {
    const p = lesionSite(c, 0.35, 0.35);
    const d = lesionDiameter(c, 'hm');
    const strength = rng.uniform(0.7, 1);
    if (d > 0.06 * geo.dd && rng.chance(0.3)) {
      // flame: elongated along the nerve-fibre direction, i.e. roughly radial from the disc
      const asp = rng.uniform(2.2, 3.8);
      const ang = Math.atan2(p.y - geo.disc.y, p.x - geo.disc.x) + rng.normal() * 0.15;
      blob(c, p.x, p.y, (d / 2) * Math.sqrt(asp), d / 2 / Math.sqrt(asp), ang, 0.35, strength, OP.hm, c.masks.hm);
    } else {
      // dot-blot: a main ellipse plus a few lobes inside its outline
      const asp = rng.uniform(1, 1.5);
      const rx = (d / 2) * Math.sqrt(asp);
      const ry = d / 2 / Math.sqrt(asp);
      const ang = rng.uniform(0, 3.14);
      blob(c, p.x, p.y, rx, ry, ang, 0.22, strength, OP.hm, c.masks.hm);
      const lobes = d > 0.05 * geo.dd ? rng.int(0, 3) : 0;
      for (let j = 0; j < lobes; j++) {
        const a = rng.uniform(0, 6.28);
        const o = rng.uniform(0.3, 0.55) * d * 0.5;
        const lr = rng.uniform(0.35, 0.6) * d * 0.5;
        blob(c, p.x + Math.cos(a) * o, p.y + Math.sin(a) * o, lr, lr * rng.uniform(0.7, 1), rng.uniform(0, 3.14), 0.25, strength, OP.hm, c.masks.hm);
      }
    }
    record(c, 'hm', p.x, p.y, d);
  }
}

function drawHex(c: Ctx, n: number): void {
  const { rng, geo } = c;
  const dd = geo.dd;
  const nClusters = clamp(Math.round(1 + n / rng.uniform(25, 60)), 1, 10);
  const centres = Array.from({ length: nClusters }, () => {
    const p = lesionSite(c, 0.75, 0.25);
    const ring = rng.chance(0.3);
    return { ...p, ring, spread: rng.uniform(0.2, 0.65) * dd, ringR: rng.uniform(0.35, 0.9) * dd };
  });
  let drawn = 0;
  for (let k = 0; k < n * 3 && drawn < n; k++) {
    const cl = centres[k % nClusters];
    let x: number;
    let y: number;
    if (cl.ring) {
      const a = rng.uniform(0, 6.28);
      const rr = cl.ringR * (1 + rng.normal() * 0.12);
      x = cl.x + Math.cos(a) * rr;
      y = cl.y + Math.sin(a) * rr;
    } else {
      x = cl.x + rng.normal() * cl.spread;
      y = cl.y + rng.normal() * cl.spread;
    }
    if (!insideField(c, x, y, Math.max(2, 0.08 * dd)) || Math.hypot(x - geo.disc.x, y - geo.disc.y) < dd) continue;
    const d = lesionDiameter(c, 'hex');
    const asp = rng.uniform(1, 1.6);
    const ang = rng.uniform(0, 3.14);
    const strength = rng.uniform(0.75, 1);
    blob(c, x, y, (d / 2) * Math.sqrt(asp), d / 2 / Math.sqrt(asp), ang, 0.12, strength, OP.hex, c.masks.hex);
    // waxy deposits are irregular: a few lobes on the bigger ones
    const lobes = d > 0.025 * dd ? rng.int(1, 3) : 0;
    for (let j = 0; j < lobes; j++) {
      const a = rng.uniform(0, 6.28);
      const o = rng.uniform(0.2, 0.4) * d;
      blob(c, x + Math.cos(a) * o, y + Math.sin(a) * o, d * rng.uniform(0.18, 0.32), d * rng.uniform(0.14, 0.26), rng.uniform(0, 3.14), 0.15, strength, OP.hex, c.masks.hex);
    }
    record(c, 'hex', x, y, d);
    drawn++;
  }
  if (drawn === 0) {
    // guarantee the label: one spot next to the fovea
    const d = SIZE.hex.p50 * dd;
    const x = geo.fovea.x + 0.7 * dd * (geo.disc.x > geo.fovea.x ? -1 : 1);
    blob(c, x, geo.fovea.y, d / 2, d / 2, 0, 0.12, 1, OP.hex, c.masks.hex);
    record(c, 'hex', x, geo.fovea.y, d);
  }
}

function drawCws(c: Ctx, n: number): void {
  const { rng } = c;
  for (let k = 0; k < n; k++) {
    const p = lesionSite(c, 0.1, 0.8);
    const d = lesionDiameter(c, 'cws');
    const strength = rng.uniform(0.65, 0.95);
    const asp = rng.uniform(1.1, 1.8);
    const ang = rng.uniform(0, 3.14);
    // a soft core that defines the outline, then fluffy lobes that stay inside it
    blob(c, p.x, p.y, (d / 2) * Math.sqrt(asp), d / 2 / Math.sqrt(asp), ang, 0.45, strength, OP.cws, c.masks.cws, true);
    const lobes = rng.int(2, 5);
    for (let j = 0; j < lobes; j++) {
      const a = rng.uniform(0, 6.28);
      const o = rng.uniform(0.15, 0.4) * d;
      const lr = rng.uniform(0.22, 0.35) * d;
      blob(c, p.x + Math.cos(a) * o, p.y + Math.sin(a) * o, lr, lr * rng.uniform(0.6, 1), rng.uniform(0, 3.14), 0.6, strength * 0.5, OP.cws, null, true);
    }
    record(c, 'cws', p.x, p.y, d);
  }
}

/** Things that look a bit like lesions but are not: never written to a mask. */
function drawConfounders(c: Ctx): void {
  const { rng, geo } = c;
  const dd = geo.dd;
  if (rng.chance(0.35)) {
    // dust on the optics: soft, grey-ish, anywhere in the field
    const n = rng.int(1, 4);
    for (let k = 0; k < n; k++) {
      const a = rng.uniform(0, 6.28);
      const r = Math.sqrt(rng.next()) * geo.fov.radius * 0.9;
      const d = rng.uniform(0.08, 0.35) * dd;
      blob(c, geo.fov.cx + Math.cos(a) * r, geo.fov.cy + Math.sin(a) * r, d / 2, d / 2, 0, 0.8, rng.uniform(0.3, 0.7), OP.dust, null, true);
    }
  }
  if (rng.chance(0.5)) {
    // nerve-fibre-layer sheen along the arcades (young eyes): soft bright streaks
    const n = rng.int(2, 7);
    for (let k = 0; k < n; k++) {
      const p = arcadePoint(c);
      const off = (rng.chance(0.5) ? 1 : -1) * rng.uniform(0.15, 0.5) * dd;
      const len = rng.uniform(0.3, 1.2) * dd;
      const wid = rng.uniform(0.04, 0.12) * dd;
      blob(c, p.x - Math.sin(p.head) * off, p.y + Math.cos(p.head) * off, len / 2, wid / 2, p.head, 0.7, rng.uniform(0.25, 0.55), OP.reflex, null, true);
    }
  }
  if (rng.chance(0.2)) {
    // small pigment clumps: dark but brown-grey, not red
    const n = rng.int(1, 6);
    for (let k = 0; k < n; k++) {
      const p = lesionSite(c, 0.2, 0.2);
      const d = rng.uniform(0.03, 0.08) * dd;
      blob(c, p.x, p.y, d / 2, d / 2, 0, 0.3, rng.uniform(0.5, 0.9), OP.pigment, null);
    }
  }
}

// ---------------------------------------------------------------- camera
interface Camera {
  blurSigma: number;
  exposure: number;
  gains: [number, number, number];
  gamma: number;
  noise: number;
  black: number;
  haze: number;
}

function makeCamera(c: Ctx, kind: UngradableKind | null): Camera {
  const { rng, geo } = c;
  const px = (2 * geo.fov.radius) / 1000; // one "pixel" of a 1000 px wide field
  const cam: Camera = {
    blurSigma: (rng.chance(0.12) ? rng.uniform(1.3, 2.2) : rng.uniform(0.45, 1.2)) * px,
    exposure: rng.uniform(0.85, 1.2),
    gains: [rng.uniform(0.92, 1.06), rng.uniform(0.85, 1.12), rng.uniform(0.75, 1.45)],
    gamma: rng.uniform(0.85, 1.15),
    noise: rng.uniform(0.6, 3),
    black: rng.uniform(0, 7),
    haze: 0,
  };
  switch (kind) {
    case 'too-dark':
      cam.exposure *= rng.uniform(0.12, 0.26);
      cam.noise = rng.uniform(2, 5);
      break;
    case 'too-bright':
      cam.exposure *= rng.uniform(2.1, 3.2);
      cam.haze = rng.uniform(25, 60);
      break;
    case 'blurred':
      cam.blurSigma = rng.uniform(8, 16) * px;
      break;
    case 'noisy':
      cam.noise = rng.uniform(28, 50);
      break;
    case 'low-contrast':
      cam.haze = rng.uniform(70, 110);
      cam.exposure *= rng.uniform(0.4, 0.55);
      cam.blurSigma = rng.uniform(2, 4) * px;
      break;
    default:
      break;
  }
  return cam;
}

function develop(c: Ctx, cam: Camera): Uint8Array {
  const { W, H, pl, rng } = c;
  blurPlanes(pl, cam.blurSigma);
  // gamma through a LUT on quarter grey levels: Math.pow per pixel would dominate the run time
  const lut = new Float32Array(4096);
  for (let i = 0; i < lut.length; i++) lut[i] = 255 * Math.pow(Math.min(1, i / 4 / 255), cam.gamma);
  const out = new Uint8Array(W * H * 3);
  const table = gaussianTable();
  // xorshift32 picks table entries: a fixed stride would repeat the grain every ~20 rows
  let xs = rng.u32() | 1;
  const { cx, cy, radius } = c.geo.fov;
  const g0 = cam.exposure * cam.gains[0];
  const g1 = cam.exposure * cam.gains[1];
  const g2 = cam.exposure * cam.gains[2];
  const hz = cam.haze;
  const { r: pr, g: pg, b: pb } = pl;
  const black = cam.black;
  const nz = cam.noise;
  const r2 = radius * radius;
  // haze (glare) is brightest in the middle of the field; precomputed per pixel only when used
  let hazeMap: Float32Array | null = null;
  if (hz > 0) {
    hazeMap = new Float32Array(W * H);
    for (let y = 0; y < H; y++) {
      const dy = y + 0.5 - cy;
      for (let x = 0; x < W; x++) {
        const dx = x + 0.5 - cx;
        const q = (dx * dx + dy * dy) / r2;
        hazeMap[y * W + x] = q < 1.02 ? hz * Math.max(0, 1 - 0.7 * q) : 0;
      }
    }
  }
  const n = W * H;
  // one xorshift32 step per pixel feeds all three channels (three 10-bit table indices)
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const hzv = hazeMap ? hazeMap[i] : 0;
    xs ^= xs << 13;
    xs ^= xs >>> 17;
    xs ^= xs << 5;
    let li = ((pr[i] * g0 + hzv) * 4) | 0;
    li = li < 0 ? 0 : li > 4095 ? 4095 : li;
    let v = lut[li] + black + table[xs & 1023] * nz;
    out[o] = v < 0 ? 0 : v > 255 ? 255 : (v + 0.5) | 0;
    li = ((pg[i] * g1 + hzv * 0.92) * 4) | 0;
    li = li < 0 ? 0 : li > 4095 ? 4095 : li;
    v = lut[li] + black + table[(xs >>> 10) & 1023] * nz;
    out[o + 1] = v < 0 ? 0 : v > 255 ? 255 : (v + 0.5) | 0;
    li = ((pb[i] * g2 + hzv * 0.85) * 4) | 0;
    li = li < 0 ? 0 : li > 4095 ? 4095 : li;
    v = lut[li] + black + table[(xs >>> 20) & 1023] * nz;
    out[o + 2] = v < 0 ? 0 : v > 255 ? 255 : (v + 0.5) | 0;
  }
  return out;
}

function stampCaption(c: Ctx, data: Uint8Array): string {
  const { rng, W, H, geo } = c;
  const square = W / H < 1.15;
  const text = cameraCaption(rng, geo.eye, square);
  const scale = Math.max(1, Math.round(H / (square ? 420 : 320)));
  const tw = textWidth(text, scale);
  const th = 7 * scale;
  const m = Math.round(Math.max(2, 0.015 * H));
  const corner = rng.int(0, 3);
  const x = corner % 2 === 0 ? m : W - m - tw;
  const y = corner < 2 ? m : H - m - th;
  const grey = rng.uniform(200, 255);
  const colour: [number, number, number] = rng.chance(0.7) ? [grey, grey, grey] : [grey, grey, grey * 0.5];
  drawText(data, W, H, text, x, y, scale, colour);
  return text;
}

/** Solve for per-label draw probabilities q so that, after rejecting "no lesion", P(label) ≈ target. */
export function conditionalRates(targets: Record<LesionLabelId, number>, healthy: number): Record<LesionLabelId, number> {
  const t = LESION_LABEL_IDS.map((l) => Math.min(0.999, targets[l] / Math.max(1e-6, 1 - healthy)));
  let q = t.slice();
  for (let it = 0; it < 50; it++) {
    const pNone = q.reduce((p, qi) => p * (1 - qi), 1);
    q = t.map((ti) => clamp(ti * (1 - pNone), 0, 0.999));
  }
  return Object.fromEntries(LESION_LABEL_IDS.map((l, i) => [l, q[i]])) as Record<LesionLabelId, number>;
}

/**
 * Render one synthetic fundus photo. Deterministic in (spec, seed).
 * @param spec size, which lesion types to draw, ungradable kind
 * @param seed 32-bit seed of this image's random stream
 */
export function renderFundus(spec: FundusSpec, seed: number, timings?: Record<string, number>): SynthFundus {
  let tLast = performance.now();
  const lap = (name: string) => {
    if (!timings) return;
    const t = performance.now();
    timings[name] = (timings[name] ?? 0) + t - tLast;
    tLast = t;
  };
  const W = Math.max(16, Math.round(spec.width));
  const H = Math.max(16, Math.round(spec.height));
  const rng = new Rng(seed);
  const geo = makeGeometry(rng.fork(), W, H);
  const masks = Object.fromEntries(LESION_LABEL_IDS.map((l) => [l, new Uint8Array(W * H)])) as Record<LesionLabelId, Uint8Array>;
  const c: Ctx = { rng: rng.fork(), W, H, geo, pl: createPlanes(W, H), masks, lesions: [], vessels: [] };
  paintBackground(c);
  lap('background');
  paintMacula(c);
  paintDisc(c);
  lap('disc+macula');
  buildVessels(c);
  paintVessels(c);
  lap('vessels');
  const lr = rng.fork();
  c.rng = lr;
  const severity = spec.severity ?? clamp(lr.logNormal(0.7, 0.75), 0.06, 2.5);
  // big, soft lesions first so small sharp ones stay visible on top
  if (spec.lesions.cws) drawCws(c, lesionCount(c, 'cws', Math.sqrt(severity)));
  if (spec.lesions.hex) drawHex(c, lesionCount(c, 'hex', severity));
  if (spec.lesions.hm) drawHm(c, lesionCount(c, 'hm', severity));
  if (spec.lesions.ma) drawMa(c, lesionCount(c, 'ma', severity));
  lap('lesions');
  c.rng = rng.fork();
  drawConfounders(c);
  lap('confounders');
  c.rng = rng.fork();
  const cam = makeCamera(c, spec.ungradable);
  const data = develop(c, cam);
  lap('camera');
  const caption = stampCaption(c, data);
  const labels = { ma: 0, hm: 0, hex: 0, cws: 0, healthy: 0 } as Record<LabelId, 0 | 1>;
  for (const l of LESION_LABEL_IDS) labels[l] = masks[l].indexOf(1) >= 0 ? 1 : 0;
  lap('caption+labels');
  labels.healthy = LESION_LABEL_IDS.every((l) => labels[l] === 0) ? 1 : 0;
  return {
    image: { width: W, height: H, channels: 3, data },
    masks,
    labels,
    gradable: spec.ungradable === null,
    quality: spec.ungradable ?? 'good',
    geometry: geo,
    lesions: c.lesions,
    caption,
  };
}
