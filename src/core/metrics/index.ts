/**
 * Evaluation metrics of FundusLens: pure TypeScript on number arrays (no tfjs, no DOM), so
 * training, the evaluate script and the app share one implementation.
 * Labels: 1 / 0 / NaN (unknown, excluded everywhere).
 */
export {
  rocCurve,
  auc,
  confusionAt,
  confusionFromCounts,
  selectThreshold,
  averagePrecision,
  wilsonInterval,
  aucStandardError,
  groupScores,
  rocFromGroups,
  aucFromGroups,
  FALLBACK_THRESHOLD,
} from './ranking';
export type { RocCurve, Confusion, ThresholdRule, ScoreGroups } from './ranking';
export { classWeights, noisyOr } from './labels';
export type { ClassWeights } from './labels';
export { pointingGame, pointingGameBoxes, mapPeaks } from './localization';
export type { PixelBox } from './localization';
export { spearman, pearson, midRanks, cohenKappa, fleissKappa } from './agreement';
