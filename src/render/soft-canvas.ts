import type { Ctx2D, ImageSourceLike } from './context';

/**
 * A tiny software implementation of the Ctx2D subset, for tests only (jsdom has no
 * canvas): affine transform, nearest-neighbour drawImage of RGBA buffers with source-over
 * alpha, solid fillRect and thick strokes. Dashes are recorded, not rendered. Good
 * enough to check by pixels that an overlay lands where the PhotoTransform says.
 */
export interface RgbaSource {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

function parseColour(s: unknown): [number, number, number, number] {
  if (typeof s !== 'string') return [0, 0, 0, 255];
  const hex = /^#([0-9a-f]{6})$/i.exec(s);
  if (hex) {
    const v = parseInt(hex[1], 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255, 255];
  }
  const rgba = /^rgba?\(([^)]+)\)$/.exec(s);
  if (rgba) {
    const p = rgba[1].split(',').map((x) => parseFloat(x));
    return [p[0], p[1], p[2], Math.round((p[3] ?? 1) * 255)];
  }
  return [0, 0, 0, 255];
}

export class SoftCanvas implements Ctx2D {
  readonly data: Uint8ClampedArray;
  globalAlpha = 1;
  lineWidth = 1;
  lineJoin: CanvasLineJoin = 'miter';
  strokeStyle: string | CanvasGradient | CanvasPattern = '#000000';
  fillStyle: string | CanvasGradient | CanvasPattern = '#000000';
  imageSmoothingEnabled = true;
  font = '';
  textBaseline: CanvasTextBaseline = 'alphabetic';
  readonly dashes: number[][] = [];
  readonly texts: string[] = [];
  private m = [1, 0, 0, 1, 0, 0];
  private stack: { m: number[]; alpha: number; clipBox: number[] | null }[] = [];
  private clipBox: number[] | null = null;
  private path: [number, number][][] = [];

  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8ClampedArray(width * height * 4);
  }

  pixel(x: number, y: number): [number, number, number, number] {
    const i = (Math.floor(y) * this.width + Math.floor(x)) * 4;
    return [this.data[i], this.data[i + 1], this.data[i + 2], this.data[i + 3]];
  }

  save(): void {
    this.stack.push({ m: [...this.m], alpha: this.globalAlpha, clipBox: this.clipBox });
  }
  restore(): void {
    const s = this.stack.pop();
    if (s) {
      this.m = s.m;
      this.globalAlpha = s.alpha;
      this.clipBox = s.clipBox;
    }
  }
  setTransform(a: number, b: number, c: number, d: number, e: number, f: number): void {
    this.m = [a, b, c, d, e, f];
  }
  private apply(x: number, y: number): [number, number] {
    const [a, b, c, d, e, f] = this.m;
    return [a * x + c * y + e, b * x + d * y + f];
  }
  private blend(x: number, y: number, r: number, g: number, b: number, a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const c = this.clipBox;
    if (c && (x + 0.5 < c[0] || x + 0.5 > c[2] || y + 0.5 < c[1] || y + 0.5 > c[3])) return;
    const i = (y * this.width + x) * 4;
    const sa = (a / 255) * this.globalAlpha;
    const da = this.data[i + 3] / 255;
    const oa = sa + da * (1 - sa);
    if (oa <= 0) return;
    this.data[i] = (r * sa + this.data[i] * da * (1 - sa)) / oa;
    this.data[i + 1] = (g * sa + this.data[i + 1] * da * (1 - sa)) / oa;
    this.data[i + 2] = (b * sa + this.data[i + 2] * da * (1 - sa)) / oa;
    this.data[i + 3] = oa * 255;
  }
  drawImage(image: ImageSourceLike, dx: number, dy: number, dw: number, dh: number): void {
    const src = image as unknown as RgbaSource;
    if (!src.data) throw new Error('SoftCanvas.drawImage needs an RGBA buffer source');
    // axis-aligned transforms only (what the viewer uses)
    const [x0, y0] = this.apply(dx, dy);
    const [x1, y1] = this.apply(dx + dw, dy + dh);
    for (let y = Math.max(0, Math.floor(Math.min(y0, y1))); y < Math.min(this.height, Math.ceil(Math.max(y0, y1))); y++) {
      for (let x = Math.max(0, Math.floor(Math.min(x0, x1))); x < Math.min(this.width, Math.ceil(Math.max(x0, x1))); x++) {
        const u = Math.floor(((x + 0.5 - x0) / (x1 - x0)) * src.width);
        const v = Math.floor(((y + 0.5 - y0) / (y1 - y0)) * src.height);
        if (u < 0 || v < 0 || u >= src.width || v >= src.height) continue;
        const j = (v * src.width + u) * 4;
        this.blend(x, y, src.data[j], src.data[j + 1], src.data[j + 2], src.data[j + 3]);
      }
    }
  }
  fillRect(x: number, y: number, w: number, h: number): void {
    const [r, g, b, a] = parseColour(this.fillStyle);
    const [x0, y0] = this.apply(x, y);
    const [x1, y1] = this.apply(x + w, y + h);
    for (let yy = Math.max(0, Math.round(Math.min(y0, y1))); yy < Math.min(this.height, Math.round(Math.max(y0, y1))); yy++)
      for (let xx = Math.max(0, Math.round(Math.min(x0, x1))); xx < Math.min(this.width, Math.round(Math.max(x0, x1))); xx++) this.blend(xx, yy, r, g, b, a);
  }
  clearRect(x: number, y: number, w: number, h: number): void {
    for (let yy = Math.max(0, y); yy < Math.min(this.height, y + h); yy++)
      for (let xx = Math.max(0, x); xx < Math.min(this.width, x + w); xx++) this.data.fill(0, (yy * this.width + xx) * 4, (yy * this.width + xx) * 4 + 4);
  }
  beginPath(): void {
    this.path = [];
  }
  moveTo(x: number, y: number): void {
    this.path.push([this.apply(x, y)]);
  }
  lineTo(x: number, y: number): void {
    const sub = this.path[this.path.length - 1];
    if (sub) sub.push(this.apply(x, y));
    else this.moveTo(x, y);
  }
  closePath(): void {
    const sub = this.path[this.path.length - 1];
    if (sub && sub.length) sub.push(sub[0]);
  }
  rect(x: number, y: number, w: number, h: number): void {
    this.moveTo(x, y);
    this.lineTo(x + w, y);
    this.lineTo(x + w, y + h);
    this.lineTo(x, y + h);
    this.closePath();
  }
  /** clips to the bounding box of the current path (enough for the axis-aligned rectangles used) */
  clip(): void {
    const pts = this.path.flat();
    if (!pts.length) return;
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    const c = this.clipBox;
    this.clipBox = c ? [Math.max(c[0], box[0]), Math.max(c[1], box[1]), Math.min(c[2], box[2]), Math.min(c[3], box[3])] : box;
  }
  setLineDash(segments: number[]): void {
    this.dashes.push([...segments]);
  }
  stroke(): void {
    const [r, g, b, a] = parseColour(this.strokeStyle);
    const rad = this.lineWidth / 2;
    const painted = new Set<number>();
    for (const sub of this.path) {
      for (let k = 1; k < sub.length; k++) {
        const [ax, ay] = sub[k - 1];
        const [bx, by] = sub[k];
        const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) * 2));
        for (let s = 0; s <= steps; s++) {
          const px = ax + ((bx - ax) * s) / steps;
          const py = ay + ((by - ay) * s) / steps;
          for (let yy = Math.floor(py - rad); yy <= Math.ceil(py + rad); yy++)
            for (let xx = Math.floor(px - rad); xx <= Math.ceil(px + rad); xx++) {
              if ((xx + 0.5 - px) ** 2 + (yy + 0.5 - py) ** 2 > rad * rad + 0.25) continue;
              const key = yy * this.width + xx;
              if (painted.has(key)) continue; // one stroke never blends with itself
              painted.add(key);
              this.blend(xx, yy, r, g, b, a);
            }
        }
      }
    }
  }
  fill(): void {
    /* not needed by the render functions under test */
  }
  fillText(text: string): void {
    this.texts.push(text);
  }
}
