/**
 * Measurements on binary masks, the same way lesion-stats.md measured the real IDRiD masks
 * (scipy.ndimage.label, 4-connectivity; equivalent diameter 2·sqrt(area/π)), so generated
 * lesions can be checked against the real statistics.
 */

export interface Component {
  area: number;
  cx: number;
  cy: number;
  /** 2·sqrt(area/π), pixels */
  equivalentDiameter: number;
}

/** Connected components (4-connectivity) of a 0/1 mask. */
export function connectedComponents(mask: Uint8Array, width: number, height: number): Component[] {
  const labels = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  const out: Component[] = [];
  let next = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    next++;
    let sp = 0;
    stack[sp++] = start;
    labels[start] = next;
    let area = 0;
    let sx = 0;
    let sy = 0;
    while (sp > 0) {
      const i = stack[--sp];
      const x = i % width;
      const y = (i - x) / width;
      area++;
      sx += x;
      sy += y;
      if (x > 0 && mask[i - 1] && !labels[i - 1]) (labels[i - 1] = next), (stack[sp++] = i - 1);
      if (x < width - 1 && mask[i + 1] && !labels[i + 1]) (labels[i + 1] = next), (stack[sp++] = i + 1);
      if (y > 0 && mask[i - width] && !labels[i - width]) (labels[i - width] = next), (stack[sp++] = i - width);
      if (y < height - 1 && mask[i + width] && !labels[i + width]) (labels[i + width] = next), (stack[sp++] = i + width);
    }
    out.push({ area, cx: sx / area + 0.5, cy: sy / area + 0.5, equivalentDiameter: 2 * Math.sqrt(area / Math.PI) });
  }
  return out;
}

/** Linear-interpolated quantile of an unsorted sample (q in 0..1). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
