import type { AnalysisResult, LesionLabelId } from '../core/types';

export type HeatKind = 'gradcam' | 'guided' | 'combined' | 'none';

/**
 * Which model-grid values to paint as the heat map. Grad-CAM / Guided Grad-CAM: the
 * per-pixel maximum over the shown labels that the model called positive (maps of
 * negative labels explain a "no" and would mislead); when no shown label is positive, all
 * shown labels that have maps, so the clinician can still see where the model looked.
 * Combined: the eq. 4 map as computed by the core (positive lesion labels only).
 */
export function heatValues(r: AnalysisResult | undefined, kind: HeatKind, visible: Record<LesionLabelId, boolean>): { values: Float32Array; size: number } | null {
  const maps = r?.maps;
  if (!r || !maps || kind === 'none') return null;
  const size = r.transform.inputSize;
  if (kind === 'combined') return maps.combined && maps.combined.length === size * size ? { values: maps.combined, size } : null;
  const list = (kind === 'gradcam' ? maps.gradCam : (maps.guidedGradCam ?? [])).filter((m) => visible[m.label] && m.data.length === size * size);
  const pos = list.filter((m) => r.positive[m.label]);
  const use = pos.length ? pos : list;
  if (!use.length) return null;
  const out = new Float32Array(size * size);
  for (const m of use) for (let i = 0; i < out.length; i++) if (m.data[i] > out[i]) out[i] = m.data[i];
  return { values: out, size };
}
