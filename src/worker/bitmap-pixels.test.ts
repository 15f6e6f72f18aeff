/**
 * bitmapPixels' choice of route, with stand-ins for the browser classes (the real route runs in every
 * e2e analysis in Chromium): WebCodecs only where its RGBA copy was seen to give RGBA, only for opaque
 * frames, and the canvas otherwise; frames are always closed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bitmapPixels, resetPixelRouteProbe, webCodecsRgbaCopyWorks } from './bitmap-pixels';

/** A fake bitmap: RGBA bytes and whether it has alpha. */
interface FakeBitmap {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  opaque: boolean;
  /** EXIF rotation the browser keeps on the frame (the bitmap itself is upright) */
  rotation?: number;
  close(): void;
}

const bitmap = (width: number, height: number, opaque = true): FakeBitmap => {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37) % 251;
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = opaque ? 255 : 128;
  return { width, height, rgba, opaque, close() {} };
};

let frames: { closed: boolean }[] = [];
let canvasReads = 0;
/** how the fake VideoFrame's copyTo behaves: converts to RGBA, or ignores `format` and writes BGRX */
let copyMode: 'rgba' | 'ignores-format' | 'throws' = 'rgba';

class FakeOffscreenCanvas {
  private fill: [number, number, number] = [0, 0, 0];
  private drawn: FakeBitmap | null = null;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {}
  getContext() {
    const self = this;
    return {
      set fillStyle(v: string) {
        self.fill = (v.match(/\d+/g) ?? []).map(Number) as [number, number, number];
      },
      fillRect() {},
      drawImage(b: FakeBitmap) {
        self.drawn = b;
      },
      getImageData() {
        canvasReads++;
        return { data: self.drawn!.rgba.slice() };
      },
    };
  }
  transferToImageBitmap(): FakeBitmap {
    // as in Chromium 156: a canvas' bitmap makes a BGRA frame, even from an opaque context and fully opaque pixels
    const b = { ...bitmap(this.width, this.height), opaque: false };
    for (let i = 0; i < b.rgba.length; i += 4) b.rgba.set([...this.fill, 255], i);
    return b;
  }
}

class FakeVideoFrame {
  closed = false;
  readonly format: string;
  readonly rotation: number;
  readonly flip = false;
  readonly codedWidth: number;
  readonly codedHeight: number;
  constructor(private readonly b: FakeBitmap) {
    this.format = b.opaque ? 'BGRX' : 'BGRA';
    // as Chromium 156 makes it from an EXIF-rotated photo's bitmap: the stored image, and the rotation to apply
    this.rotation = b.rotation ?? 0;
    const swap = this.rotation % 180 !== 0;
    this.codedWidth = swap ? b.height : b.width;
    this.codedHeight = swap ? b.width : b.height;
    frames.push(this);
  }
  allocationSize() {
    return this.b.width * this.b.height * 4;
  }
  async copyTo(out: Uint8ClampedArray, o: { format?: string }) {
    if (copyMode === 'throws') throw new Error('copyTo failed');
    const convert = copyMode === 'rgba' && o.format === 'RGBA';
    for (let i = 0; i < out.length; i += 4) {
      const [r, g, b, a] = this.b.rgba.subarray(i, i + 4);
      out.set(convert ? [r, g, b, a] : [b, g, r, 255], i);
    }
  }
  close() {
    this.closed = true;
  }
}

const g = globalThis as Record<string, unknown>;
const saved = { VideoFrame: g.VideoFrame, OffscreenCanvas: g.OffscreenCanvas };

beforeEach(() => {
  g.OffscreenCanvas = FakeOffscreenCanvas;
  g.VideoFrame = FakeVideoFrame;
  frames = [];
  canvasReads = 0;
  copyMode = 'rgba';
  resetPixelRouteProbe();
});
afterEach(() => {
  g.VideoFrame = saved.VideoFrame;
  g.OffscreenCanvas = saved.OffscreenCanvas;
  resetPixelRouteProbe();
});

const run = (b: FakeBitmap) => bitmapPixels(b as unknown as ImageBitmap);

describe('bitmapPixels', () => {
  it('copies an opaque photo through WebCodecs, with the same bytes as the canvas, and closes the frames', async () => {
    const b = bitmap(7, 5);
    const r = await run(b);
    expect(r.via).toBe('webcodecs');
    expect(Array.from(r.data)).toEqual(Array.from(b.rgba));
    expect(canvasReads).toBe(0);
    expect(frames.length).toBe(2); // the probe's and the photo's
    expect(frames.every((f) => f.closed)).toBe(true);
  });

  it('falls back to the canvas when the copy ignores its RGBA format (red and blue would swap)', async () => {
    copyMode = 'ignores-format';
    expect(await webCodecsRgbaCopyWorks()).toBe(false);
    const b = bitmap(4, 4);
    const r = await run(b);
    expect(r.via).toBe('canvas');
    expect(Array.from(r.data)).toEqual(Array.from(b.rgba));
  });

  it('reads a photo with alpha through the canvas', async () => {
    const b = bitmap(3, 3, false);
    const r = await run(b);
    expect(r.via).toBe('canvas');
    expect(Array.from(r.data)).toEqual(Array.from(b.rgba));
    expect(frames.every((f) => f.closed)).toBe(true);
  });

  it('reads an EXIF-rotated photo through the canvas: its frame holds the unrotated image', async () => {
    for (const rotation of [90, 180]) {
      const b = { ...bitmap(6, 4), rotation };
      const r = await run(b);
      expect(r.via).toBe('canvas');
      expect(Array.from(r.data)).toEqual(Array.from(b.rgba));
    }
    // and when the caller says so (it read the EXIF orientation itself)
    expect((await bitmapPixels(bitmap(3, 2) as unknown as ImageBitmap, { webCodecs: false })).via).toBe('canvas');
    expect(frames.every((f) => f.closed)).toBe(true);
  });

  it('falls back to the canvas when a copy fails, and where there is no VideoFrame', async () => {
    expect(await webCodecsRgbaCopyWorks()).toBe(true);
    copyMode = 'throws';
    expect((await run(bitmap(2, 2))).via).toBe('canvas');
    expect(frames.every((f) => f.closed)).toBe(true);
    resetPixelRouteProbe();
    g.VideoFrame = undefined;
    expect((await run(bitmap(2, 2))).via).toBe('canvas');
  });
});
