import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LabelSpec, LesionLabelId, Outline } from '../core/types';
import type { OverlayKind, PhotoItem } from '../store';
import { colorizeMap, colormapLut, type ColormapName } from '../render/colormap';
import { drawModelGridImage, drawOutlines, drawPhoto, hitTestOutlines } from '../render/overlay';
import { heatValues } from '../render/heat';
import { clampView, fitView, panBy, screenToPhoto, zoomAt, type ViewTransform } from '../render/view';

export interface PhotoCanvasProps {
  photo: PhotoItem;
  labels: LabelSpec[];
  overlay: OverlayKind;
  labelsVisible: Record<LesionLabelId, boolean>;
  showOutlines: boolean;
  opacity: number;
  showPreprocessed: boolean;
  colormap: ColormapName;
  /** null = fit */
  view: ViewTransform | null;
  onViewChange?: (v: ViewTransform | null) => void;
  interactive?: boolean;
  highlight?: Outline | null;
  className?: string;
}

function toCanvas(rgba: Uint8ClampedArray, w: number, h: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  // putImageData copies the pixels into the canvas: the ImageData may wrap `rgba` itself (a 1 MB copy less per
  // result), unless its memory is shared, which ImageData does not take
  const own = rgba.buffer instanceof ArrayBuffer ? (rgba as Uint8ClampedArray<ArrayBuffer>) : new Uint8ClampedArray(rgba);
  c.getContext('2d')!.putImageData(new ImageData(own, w, h), 0, 0);
  return c;
}

const scaled = (v: ViewTransform, k: number): ViewTransform => ({ scale: v.scale * k, tx: v.tx * k, ty: v.ty * k });

export function PhotoCanvas(props: PhotoCanvasProps) {
  const { t } = useTranslation();
  const { photo, labels, overlay, labelsVisible, showOutlines, opacity, showPreprocessed, colormap, view, onViewChange, interactive = true, highlight } = props;
  const box = useRef<HTMLDivElement>(null);
  const base = useRef<HTMLCanvasElement>(null);
  const top = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const [hover, setHover] = useState<{ o: Outline; x: number; y: number } | null>(null);
  const d = photo.display;
  const r = photo.result;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    setSize({ w: el.clientWidth, h: el.clientHeight });
    return () => ro.disconnect();
  }, []);

  const current = useCallback((): ViewTransform | null => {
    if (!d || !size.w || !size.h) return null;
    return view ?? fitView(d.width, d.height, size.w, size.h);
  }, [d, size, view]);

  const heat = useMemo(() => {
    const hv = heatValues(photo.result, overlay, labelsVisible);
    if (!hv) return null;
    return toCanvas(colorizeMap(hv.values, colormapLut(colormap)), hv.size, hv.size);
  }, [photo.result, overlay, labelsVisible, colormap]);

  // only while the preprocessed view is on: drawn for every result, it cost ~9 ms before the first result showed
  const pre = useMemo(
    () => (showPreprocessed && photo.preprocessed ? toCanvas(photo.preprocessed.rgba, photo.preprocessed.size, photo.preprocessed.size) : null),
    [photo.preprocessed, showPreprocessed],
  );

  const colours = useMemo(() => Object.fromEntries(labels.filter((l) => l.colour).map((l) => [l.id, l.colour!])) as Partial<Record<LesionLabelId, string>>, [labels]);

  // draw
  useEffect(() => {
    const v = current();
    const b = base.current;
    const o = top.current;
    if (!b || !o) return;
    const dpr = window.devicePixelRatio || 1;
    for (const c of [b, o]) {
      c.width = Math.max(1, Math.round(size.w * dpr));
      c.height = Math.max(1, Math.round(size.h * dpr));
    }
    const bc = b.getContext('2d');
    const oc = o.getContext('2d');
    // a shelved photo (store shelveIdle) has no pixels until the runner restores it: blank meanwhile
    if (!bc || !oc || !v || !d || !d.bitmap) return;
    const bitmap = d.bitmap;
    const dv = scaled(v, dpr);
    bc.clearRect(0, 0, b.width, b.height);
    if (showPreprocessed && pre && r) {
      bc.globalAlpha = 0.35;
      drawPhoto(bc, bitmap, d.width, d.height, dv);
      bc.globalAlpha = 1;
      drawModelGridImage(bc, pre, r.transform, dv, 1);
    } else drawPhoto(bc, bitmap, d.width, d.height, dv);
    oc.clearRect(0, 0, o.width, o.height);
    if (r && heat) drawModelGridImage(oc, heat, r.transform, dv, opacity);
    if (r && showOutlines) drawOutlines(oc, r.outlines, dv, { colours, lineWidth: 2 * dpr, visible: labelsVisible, highlight: highlight ?? hover?.o ?? null, clip: { width: d.width, height: d.height } });
  }, [current, size, d, r, heat, pre, showPreprocessed, opacity, showOutlines, colours, labelsVisible, highlight, hover]);

  // interaction
  const setV = useCallback(
    (f: (v: ViewTransform) => ViewTransform) => {
      const v = current();
      if (!v || !d || !onViewChange) return;
      onViewChange(clampView(f(v), d.width, d.height, size.w, size.h));
    },
    [current, d, onViewChange, size],
  );
  const minScale = d && size.w ? fitView(d.width, d.height, size.w, size.h).scale * 0.5 : 0;

  useEffect(() => {
    const el = box.current;
    if (!el || !interactive) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      setV((v) => zoomAt(v, Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top, minScale));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [interactive, setV, minScale]);

  const pointers = useRef(new Map<number, { x: number; y: number }>());
  const onPointerDown = (e: React.PointerEvent) => {
    if (!interactive) return;
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
    const rect = box.current!.getBoundingClientRect();
    pointers.current.set(e.pointerId, { x: e.clientX - rect.left, y: e.clientY - rect.top });
  };
  const onPointerMove = (e: React.PointerEvent) => {
    const rect = box.current!.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const ps = pointers.current;
    const prev = ps.get(e.pointerId);
    if (prev && interactive) {
      if (ps.size === 1) setV((v) => panBy(v, x - prev.x, y - prev.y));
      else if (ps.size === 2) {
        const other = [...ps.entries()].find(([id]) => id !== e.pointerId)![1];
        const d0 = Math.hypot(prev.x - other.x, prev.y - other.y);
        const d1 = Math.hypot(x - other.x, y - other.y);
        if (d0 > 0) setV((v) => zoomAt(panBy(v, (x - prev.x) / 2, (y - prev.y) / 2), d1 / d0, (x + other.x) / 2, (y + other.y) / 2, minScale));
      }
      ps.set(e.pointerId, { x, y });
      return;
    }
    const v = current();
    if (!v || !r || !showOutlines) return setHover(null);
    const [px, py] = screenToPhoto(v, x, y);
    const o = hitTestOutlines(r.outlines, px, py, 4 / v.scale, labelsVisible);
    setHover(o ? { o, x, y } : null);
  };
  const onPointerUp = (e: React.PointerEvent) => {
    pointers.current.delete(e.pointerId);
  };
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (!interactive) return;
    const step = 40;
    const cx = size.w / 2;
    const cy = size.h / 2;
    const act: Record<string, (v: ViewTransform) => ViewTransform> = {
      '+': (v) => zoomAt(v, 1.25, cx, cy, minScale),
      '=': (v) => zoomAt(v, 1.25, cx, cy, minScale),
      '-': (v) => zoomAt(v, 0.8, cx, cy, minScale),
      ArrowLeft: (v) => panBy(v, step, 0),
      ArrowRight: (v) => panBy(v, -step, 0),
      ArrowUp: (v) => panBy(v, 0, step),
      ArrowDown: (v) => panBy(v, 0, -step),
      '1': (v) => zoomAt(v, 1 / v.scale, cx, cy, 0, Infinity),
    };
    if (e.key === '0') {
      onViewChange?.(null);
      e.preventDefault();
    } else if (act[e.key]) {
      setV(act[e.key]);
      e.preventDefault();
    }
  };

  const label = labels.find((l) => l.id === hover?.o.label);
  return (
    <div
      ref={box}
      className={`photo-canvas ${props.className ?? ''}`}
      tabIndex={interactive ? 0 : -1}
      role="img"
      aria-label={t('viewer.canvasAria', { name: photo.name })}
      data-scale={current()?.scale.toFixed(4)}
      data-fit={view === null ? 'true' : 'false'}
      onKeyDown={onKeyDown}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onPointerLeave={() => setHover(null)}
      onDoubleClick={(e) => {
        const rect = box.current!.getBoundingClientRect();
        setV((v) => zoomAt(v, 2, e.clientX - rect.left, e.clientY - rect.top, minScale));
      }}
    >
      <canvas ref={base} className="layer" data-testid="photo-layer" />
      <canvas ref={top} className="layer" data-testid="overlay-layer" />
      {hover && (
        <div className="tooltip" role="status" style={{ left: Math.min(hover.x + 12, size.w - 180), top: Math.max(0, hover.y - 36) }}>
          {t('viewer.hover', { name: label?.name ?? hover.o.label, plain: label?.plainName ?? '', score: hover.o.score.toFixed(2) })}
        </div>
      )}
    </div>
  );
}
