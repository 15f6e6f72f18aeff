/**
 * Fixtures shared by the services and components tests (not shipped code: only tests import this).
 * Plain data with a gradable "demo" analysis; each suite overrides the fields it checks.
 */
import type { AnalysisResult } from '../core/types';
import type { ExamRecord, RecordAnalysis } from './records/types';

/**
 * An exam record: microaneurysms (ma) positive with one small outline, cpu backend, demo@1.0.0.
 * `p` replaces record fields (`analysis: null` for a record never analysed); `a` replaces
 * fields of the analysis.
 */
export function examRecord(p: Partial<ExamRecord> = {}, a: Partial<RecordAnalysis> = {}): ExamRecord {
  return {
    id: 'r1',
    patientId: 'P-001',
    eye: 'OD',
    captureDate: '2026-11-20',
    photoName: 'a.jpg',
    photoType: 'image/jpeg',
    photoWidth: 10,
    photoHeight: 8,
    analysis: {
      quality: { gradable: true, score: 0.8, reasons: [], codes: [], measures: {} },
      forced: false,
      probabilities: { ma: 0.7, hm: 0.1, hex: 0.05, cws: 0.02, healthy: 0.2 },
      positive: { ma: true, hm: false, hex: false, cws: false, healthy: false },
      summary: 'dr-signs',
      outlines: [{ label: 'ma', points: [[1, 1], [3, 1], [3, 3]], area: 2, score: 0.9 }],
      transform: { inputSize: 64, photoWidth: 10, photoHeight: 8, scale: 0.2, offsetX: 0, offsetY: -1 },
      backend: 'cpu',
      model: 'demo@1.0.0',
      modelName: 'demo',
      modelVersion: '1.0.0',
      labels: [
        { id: 'ma', name: 'BP/MA', plainName: 'tiny bulges', colour: '#f0f', threshold: 0.5 },
        { id: 'healthy', name: 'Healthy', plainName: 'healthy', colour: null, threshold: 0.5 },
      ],
      ...a,
    },
    createdAt: '2026-11-20T00:00:00Z',
    updatedAt: '2026-11-20T00:00:00Z',
    revision: 0,
    ...p,
  };
}

/**
 * A gradable analysis result: hard exudates (hex) positive, demo@1.0.0 on wasm, no maps.
 * `over` replaces whole fields.
 */
export function analysisResult(over: Partial<AnalysisResult> = {}): AnalysisResult {
  return {
    quality: { gradable: true, score: 0.91, reasons: [], codes: [], measures: { sharpness: 12.5 } },
    forced: false,
    probabilities: { ma: 0.1, hm: 0.2, hex: 0.82, cws: 0.05, healthy: 0.1 },
    positive: { ma: false, hm: false, hex: true, cws: false, healthy: false },
    summary: 'dr-signs',
    outlines: [],
    transform: { inputSize: 8, photoWidth: 10, photoHeight: 10, scale: 1, offsetX: 0, offsetY: 0 },
    fov: { found: true, cx: 5, cy: 5, radius: 5, bbox: [0, 0, 10, 10], circleVisibleFraction: 1, coverage: 0.7 },
    timingsMs: { quality: 12, forward: 210.4, total: 400 },
    backend: 'wasm',
    model: 'demo@1.0.0',
    ...over,
  };
}
