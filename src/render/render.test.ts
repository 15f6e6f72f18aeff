import { describe, expect, it } from 'vitest';
import type { Outline, PhotoTransform } from '../core/types';
import { colorbar, colorizeMap, colormapLut } from './colormap';
import { DASH, drawModelGridImage, drawOutlines, drawPhoto, hitTestOutlines, mapPlacement, pointInPolygon, rgbFloatToRgba } from './overlay';
import { drawLegend, legendItems, dashArray } from './legend';
import { clampView, fitView, oneToOne, panBy, photoToScreen, screenToPhoto, zoomAt } from './view';
import { SoftCanvas } from './soft-canvas';

const lum = (r: number, g: number, b: number) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

describe('colour maps', () => {
  it('match matplotlib endpoints within 4/255 and rise monotonically in lightness', () => {
    const ref = {
      viridis: [[68, 1, 84], [33, 145, 140], [253, 231, 37]],
      inferno: [[0, 0, 4], [188, 55, 84], [252, 255, 164]],
    } as const;
    for (const name of ['viridis', 'inferno'] as const) {
      const lut = colormapLut(name);
      [0, 128, 255].forEach((idx, k) => {
        for (let c = 0; c < 3; c++) expect(Math.abs(lut[idx * 3 + c] - ref[name][k][c])).toBeLessThanOrEqual(4);
      });
      for (let i = 8; i < 256; i += 8) expect(lum(lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2])).toBeGreaterThan(lum(lut[(i - 8) * 3], lut[(i - 8) * 3 + 1], lut[(i - 8) * 3 + 2]));
    }
  });

  it('colorizeMap: transparent below the floor, opaque hot pixels, NaN-safe, optional normalisation', () => {
    const lut = colormapLut('inferno');
    const px = colorizeMap(new Float32Array([0, 0.1, 0.3, 1, Number.NaN, 2]), lut, { floor: 0.15, ramp: 0.25 });
    expect(px[3]).toBe(0);
    expect(px[7]).toBe(0);
    expect(px[11]).toBeGreaterThan(0);
    expect(px[11]).toBeLessThan(255);
    expect(px[15]).toBe(255);
    expect([px[12], px[13], px[14]]).toEqual([lut[765], lut[766], lut[767]]);
    expect(px[19]).toBe(0); // NaN -> 0
    expect(px[23]).toBe(255); // >1 clamps
    const norm = colorizeMap(new Float32Array([0.05, 0.1]), lut, { normalise: true, floor: 0 });
    expect(norm[7]).toBe(255); // the map's own max becomes fully opaque
  });

  it('colorbar goes from the first to the last LUT colour', () => {
    const lut = colormapLut('viridis');
    const bar = colorbar(lut, 16, 2);
    expect([bar[0], bar[1], bar[2]]).toEqual([lut[0], lut[1], lut[2]]);
    expect([bar[15 * 4], bar[15 * 4 + 1], bar[15 * 4 + 2]]).toEqual([lut[765], lut[766], lut[767]]);
  });
});

describe('view transform', () => {
  it('fits and centres the photo, round-trips screen<->photo', () => {
    const v = fitView(4000, 2000, 800, 600);
    expect(v.scale).toBeCloseTo(0.2);
    expect(v.tx).toBeCloseTo(0);
    expect(v.ty).toBeCloseTo(100);
    const [x, y] = screenToPhoto(v, 400, 300);
    expect(x).toBeCloseTo(2000);
    expect(y).toBeCloseTo(1000);
    const [sx, sy] = photoToScreen(v, x, y);
    expect(sx).toBeCloseTo(400);
    expect(sy).toBeCloseTo(300);
  });

  it('zoomAt keeps the photo point under the cursor; 1:1 gives scale 1; clamps', () => {
    const v = fitView(4000, 2000, 800, 600);
    const before = screenToPhoto(v, 123, 321);
    const z = zoomAt(v, 3, 123, 321);
    const after = screenToPhoto(z, 123, 321);
    expect(after[0]).toBeCloseTo(before[0]);
    expect(after[1]).toBeCloseTo(before[1]);
    expect(zoomAt(v, 1e6, 0, 0).scale).toBe(16);
    expect(oneToOne(v, 800, 600).scale).toBe(1);
    const far = clampView(panBy(v, 10000, -10000), 4000, 2000, 800, 600);
    expect(far.tx).toBeLessThanOrEqual(800 - 48);
    expect(far.ty + 2000 * far.scale).toBeGreaterThanOrEqual(48);
  });
});

// A non-identity model->photo transform: a 8x8 model grid covering photo [20, 60) x [10, 50).
const T: PhotoTransform = { inputSize: 8, photoWidth: 80, photoHeight: 60, scale: 5, offsetX: 20, offsetY: 10 };
const identity = { scale: 1, tx: 0, ty: 0 };

describe('overlay placement (pixels)', () => {
  it('mapPlacement follows photo = model*scale + offset', () => {
    expect(mapPlacement(T)).toEqual({ x: 20, y: 10, w: 40, h: 40 });
  });

  it('a hot model cell lands on the photo pixels the PhotoTransform predicts, zoomed views too', () => {
    const map = new Float32Array(64);
    map[2 * 8 + 5] = 1; // model cell (u=5, v=2) -> photo [45,50) x [20,25)
    const rgba = colorizeMap(map, colormapLut('inferno'), { floor: 0.1 });
    const overlay = { width: 8, height: 8, data: rgba };
    const c = new SoftCanvas(80, 60);
    drawModelGridImage(c, overlay, T, identity, 1);
    expect(c.pixel(47, 22)[3]).toBe(255);
    expect(c.pixel(47, 22)[0]).toBeGreaterThan(200);
    for (const [x, y] of [[44, 22], [50, 22], [47, 19], [47, 25], [10, 10], [70, 50]]) expect(c.pixel(x, y)[3]).toBe(0);
    // 2x zoom, panned: photo (47,22) -> screen (47*2-30, 22*2-10)
    const z = new SoftCanvas(160, 120);
    drawModelGridImage(z, overlay, T, { scale: 2, tx: -30, ty: -10 }, 0.5);
    expect(z.pixel(64, 34)[3]).toBeGreaterThan(100);
    expect(z.pixel(64, 34)[3]).toBeLessThan(160); // globalAlpha 0.5 honoured
    expect(z.pixel(40, 34)[3]).toBe(0);
  });

  it('never paints outside the photo where the padded model square sticks out', () => {
    // FOV square hanging off the top and left of a 40x30 photo
    const t: PhotoTransform = { inputSize: 4, photoWidth: 40, photoHeight: 30, scale: 10, offsetX: -10, offsetY: -5 };
    const full = { width: 4, height: 4, data: new Uint8ClampedArray(64).fill(255) };
    const c = new SoftCanvas(60, 60);
    drawModelGridImage(c, full, t, { scale: 1, tx: 10, ty: 10 }, 1);
    expect(c.pixel(12, 12)[3]).toBe(255); // photo (2,2)
    expect(c.pixel(5, 12)[3]).toBe(0); // left of the photo, inside the square
    expect(c.pixel(12, 5)[3]).toBe(0); // above the photo
    expect(c.pixel(35, 35)[3]).toBe(255); // photo (25,25)
    expect(c.pixel(45, 35)[3]).toBe(0); // photo (35,25): right of the square
    const o = new SoftCanvas(60, 60);
    drawOutlines(o, [ring('hm', -5, 5, 20, 20)], { scale: 1, tx: 10, ty: 10 }, { colours: {}, clip: { width: 40, height: 30 } });
    expect(o.pixel(5, 20)[3]).toBe(0); // the part of the ring left of the photo is clipped
    expect(o.pixel(20, 15)[3]).toBe(255);
  });

  it('drawPhoto covers exactly the photo rectangle', () => {
    const photo = { width: 4, height: 2, data: new Uint8ClampedArray(4 * 2 * 4).fill(255) };
    const c = new SoftCanvas(20, 20);
    drawPhoto(c, photo, 4, 2, { scale: 2, tx: 3, ty: 5 });
    expect(c.pixel(3, 5)[3]).toBe(255);
    expect(c.pixel(10, 8)[3]).toBe(255);
    expect(c.pixel(11, 8)[3]).toBe(0);
    expect(c.pixel(10, 9)[3]).toBe(0);
  });

  it('rgbFloatToRgba converts the preprocessed model input', () => {
    const out = rgbFloatToRgba(new Float32Array([1, 0.5, 0]), 1, 1);
    expect([...out]).toEqual([255, 128, 0, 255]);
  });
});

const ring = (label: Outline['label'], x0: number, y0: number, x1: number, y1: number, score = 0.8): Outline => ({
  label,
  points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
  area: (x1 - x0) * (y1 - y0),
  score,
});

describe('outlines', () => {
  it('are stroked in the label colour on a dark halo with a per-label dash pattern', () => {
    const c = new SoftCanvas(60, 60);
    const o = [ring('hex', 10, 10, 40, 40), ring('ma', 45, 45, 55, 55)];
    drawOutlines(c, o, identity, { colours: { hex: '#ffd500', ma: '#ff4fd8' }, lineWidth: 2 });
    const onLine = c.pixel(25, 10);
    expect(onLine[0]).toBeGreaterThan(200);
    expect(onLine[1]).toBeGreaterThan(150);
    expect(onLine[2]).toBeLessThan(60);
    expect(c.pixel(25, 25)[3]).toBe(0); // interior untouched
    expect(c.dashes).toContainEqual(DASH.hex);
    expect(c.dashes).toContainEqual(DASH.ma);
    expect(new Set(Object.values(DASH).map((d) => d.join(','))).size).toBe(4);
  });

  it('honours per-label visibility and the view transform', () => {
    const c = new SoftCanvas(100, 100);
    drawOutlines(c, [ring('hex', 10, 10, 20, 20), ring('hm', 30, 30, 40, 40)], { scale: 2, tx: 5, ty: 5 }, { colours: {}, visible: { hex: false } });
    expect(c.pixel(2 * 15 + 5, 2 * 10 + 5)[3]).toBe(0); // hidden hex
    expect(c.pixel(2 * 35 + 5, 2 * 30 + 5)[3]).toBe(255); // hm at zoomed position
  });

  it('hit testing finds the smallest containing outline, with a line tolerance for tiny rings', () => {
    const big = ring('hm', 0, 0, 100, 100);
    const small = ring('ma', 40, 40, 44, 44);
    expect(pointInPolygon(big.points, 50, 50)).toBe(true);
    expect(pointInPolygon(big.points, 150, 50)).toBe(false);
    expect(hitTestOutlines([big, small], 42, 42)).toBe(small);
    expect(hitTestOutlines([big, small], 10, 10)).toBe(big);
    expect(hitTestOutlines([small], 46, 42)).toBeNull();
    expect(hitTestOutlines([small], 46, 42, 3)).toBe(small);
    expect(hitTestOutlines([big, small], 42, 42, 0, { ma: false })).toBe(big);
  });
});

describe('legend', () => {
  it('lists lesion labels with name, colour and dash; draws each name', () => {
    const items = legendItems([
      { id: 'ma', name: 'BP/MA', plainName: '', colour: '#ff00ff', threshold: 0.5 },
      { id: 'hex', name: 'HEX', plainName: '', colour: null, threshold: 0.5 },
      { id: 'healthy', name: 'Healthy', plainName: '', colour: null, threshold: 0.5 },
    ]);
    expect(items.map((i) => i.id)).toEqual(['ma', 'hex']);
    expect(items[1].colour).toBe('#ffd500');
    const c = new SoftCanvas(200, 80);
    const h = drawLegend(c, items, 0, 0);
    expect(h).toBeGreaterThan(40);
    expect(c.texts).toEqual(['BP/MA', 'HEX']);
    expect(c.pixel(5, 5)[3]).toBeGreaterThan(0);
    expect(dashArray('hm')).toBe('none');
    expect(dashArray('hex')).toBe('9 4');
  });
});
