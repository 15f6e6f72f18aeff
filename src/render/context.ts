/**
 * The subset of CanvasRenderingContext2D the render functions use. Keeping it small
 * lets tests pass a recording or software context (jsdom has no canvas) and keeps the
 * drawing code honest about what it needs.
 */
export type ImageSourceLike = CanvasImageSource | { width: number; height: number };

export interface Ctx2D {
  save(): void;
  restore(): void;
  setTransform(a: number, b: number, c: number, d: number, e: number, f: number): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  closePath(): void;
  rect(x: number, y: number, w: number, h: number): void;
  clip(): void;
  stroke(): void;
  fill(): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  clearRect(x: number, y: number, w: number, h: number): void;
  drawImage(image: ImageSourceLike, dx: number, dy: number, dw: number, dh: number): void;
  setLineDash(segments: number[]): void;
  globalAlpha: number;
  lineWidth: number;
  lineJoin: CanvasLineJoin;
  strokeStyle: string | CanvasGradient | CanvasPattern;
  fillStyle: string | CanvasGradient | CanvasPattern;
  imageSmoothingEnabled: boolean;
  font: string;
  textBaseline: CanvasTextBaseline;
  fillText(text: string, x: number, y: number): void;
}
