/**
 * Public surface of the FundusLens core: pure TypeScript + tfjs, no DOM, no Node APIs.
 * App worker, CLI and training import from here (or from a sub-package's index); this file
 * only re-exports what the sub-packages implement.
 */
export * from './types';
export * from './errors';
export * from './preprocess/index';
export * from './quality/index';
export * from './model/index';
export * from './backends/index';
export * from './explain/index';
export * from './lesions/index';
export * from './metrics/index';
export { photoChecks, sameFov, type PhotoChecks } from './photo-checks';
export { analyze, explainDetails, warmUpAnalysis, type AnalyzeOptions, type DetailMaps, type ExplainDetailsOptions, type WarmUpOptions } from './analyze';
