/**
 * The paper's five element-annotation labels (Jiang et al., §II.A, Table I) with their
 * outline colours from Fig. 6 (pink BP/MA, red HM, yellow HEX, blue CWS; healthy has none).
 */
import { LABEL_IDS, type LabelId, type LabelSpec } from '../types';

const BASE: Record<LabelId, Omit<LabelSpec, 'threshold'>> = {
  ma: { id: 'ma', name: 'BP/MA', plainName: 'small spots of bleeding (microaneurysms)', colour: '#ff5ccd' },
  hm: { id: 'hm', name: 'HM', plainName: 'bleeding (haemorrhages)', colour: '#e8202a' },
  hex: { id: 'hex', name: 'HEX', plainName: 'fatty deposits (hard exudates)', colour: '#ffd500' },
  cws: { id: 'cws', name: 'CWS', plainName: 'swollen nerve fibres (cotton wool spots)', colour: '#2f7bff' },
  healthy: { id: 'healthy', name: 'Healthy', plainName: 'no signs found', colour: null },
};

/** Decision threshold used when none is given (the trained model's metadata overrides it). */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * The default label list in model output order (ma, hm, hex, cws, healthy).
 * @param thresholds per-label sigmoid thresholds; missing ones default to 0.5.
 */
export function defaultLabels(thresholds: Partial<Record<LabelId, number>> = {}): LabelSpec[] {
  return LABEL_IDS.map((id) => ({ ...BASE[id], threshold: thresholds[id] ?? DEFAULT_THRESHOLD }));
}
