import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { downscaleFactor, orientedSize, readImageHeader } from './image-header';

const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);

describe('image header sniffing (no decode)', () => {
  const base = () => sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 200, g: 80, b: 40 } } });

  it('reads JPEG, PNG, WebP (lossy and lossless) sizes', async () => {
    expect(readImageHeader(u8(await base().jpeg().toBuffer()))).toMatchObject({ format: 'jpeg', width: 300, height: 200, orientation: 1 });
    expect(readImageHeader(u8(await base().png().toBuffer()))).toMatchObject({ format: 'png', width: 300, height: 200 });
    expect(readImageHeader(u8(await base().webp().toBuffer()))).toMatchObject({ format: 'webp', width: 300, height: 200 });
    expect(readImageHeader(u8(await base().webp({ lossless: true }).toBuffer()))).toMatchObject({ format: 'webp', width: 300, height: 200 });
  });

  it('reads JPEG EXIF orientation and swaps the oriented size for 5–8', async () => {
    const jpg = await base().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const h = readImageHeader(u8(jpg))!;
    expect(h.orientation).toBe(6);
    expect(orientedSize(h)).toEqual({ width: 200, height: 300 });
  });

  it('says null for text, truncated and empty input', () => {
    expect(readImageHeader(new TextEncoder().encode('hello, this is not an image at all'))).toBeNull();
    expect(readImageHeader(new Uint8Array([0xff, 0xd8, 0xff]))).toBeNull();
    expect(readImageHeader(new Uint8Array())).toBeNull();
  });

  it('downscale factor keeps the long side within the limit', () => {
    expect(downscaleFactor(12000, 9000, 4096)).toBeCloseTo(4096 / 12000);
    expect(downscaleFactor(4288, 2848, 4096) * 4288).toBeCloseTo(4096);
    expect(downscaleFactor(1000, 800, 4096)).toBe(1);
  });
});
