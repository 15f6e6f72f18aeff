import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import type { EvaluationSummary, LabelSpec, LocalizationTable, ModelMetadata } from '../core/types';
import { initI18n } from '../i18n';
import { appStore } from '../store';
import { ModelCard } from './ModelCard';

const labels: LabelSpec[] = [
  { id: 'ma', name: 'BP/MA', plainName: 'small spots of bleeding (microaneurysms)', colour: '#ff5ccd', threshold: 0.546 },
  { id: 'hm', name: 'HM', plainName: 'bleeding (haemorrhages)', colour: '#e8202a', threshold: 0.509 },
  { id: 'hex', name: 'HEX', plainName: 'fatty deposits (hard exudates)', colour: '#ffd500', threshold: 0.07 },
  { id: 'cws', name: 'CWS', plainName: 'swollen nerve fibres (cotton wool spots)', colour: '#2f7bff', threshold: 0.439 },
  { id: 'healthy', name: 'Healthy', plainName: 'no signs found', colour: null, threshold: 0.753 },
];

/** Table I of one evaluation, as an older bundle (before both maps were scored) carries it. */
function evaluation(dataset: string, description: string): EvaluationSummary {
  return {
    dataset,
    description,
    perLabel: {
      ma: { sensitivity: 0.7, specificity: 0.8, accuracy: 0.75, auc: 0.81, n: 60, positives: 30, threshold: 0.546, pointingGame: 0.167, pointingGameN: 30 },
      hex: { sensitivity: 0.9, specificity: 0.85, accuracy: 0.87, auc: 0.93, n: 60, positives: 32, threshold: 0.07, pointingGame: 0.688, pointingGameN: 32 },
      // undefined numbers arrive as null in report.json
      cws: { sensitivity: null, specificity: null, accuracy: null, auc: null, n: 0, positives: 0 } as never,
    },
  };
}

function metadata(evaluations: EvaluationSummary[]): ModelMetadata {
  return {
    schemaVersion: 1,
    name: 'funduslens-demo',
    version: '0.1.0',
    architecture: 'compact ResNet',
    labels,
    inputSize: 512,
    preprocess: { inputSize: 512 } as never,
    gradCamLayer: 'gradcam_features',
    intendedUse: 'Demonstration only. Not a medical device.',
    limitations: ['Trained on synthetic images.'],
    training: { summary: '5 epochs on synthetic photos.', datasets: ['synth-2000'] },
    evaluation: evaluations,
    weightsSha256: { 'group1-shard1of1.bin': 'ab12' },
    createdAt: '2026-11-26T07:04:24.420Z',
  };
}

const OLD = metadata([
  evaluation('synth-2000:test', 'FundusLens synthetic test split (60 images).'),
  evaluation('idrid:test', 'IDRiD segmentation set, test split (6 real photos with expert masks).'),
]);

const gradcam: LocalizationTable = {
  map: 'gradcam',
  name: 'Grad-CAM (eq. 1–2, 16×16 grid)',
  tolerancePx: 7.6,
  grid: 16,
  rows: [
    { label: 'ma', source: 'mask', n: 30, hits: 5, pointingGame: 5 / 30, chance: 0.046, emptyMaps: 0, upperBound: 1, upperBoundHits: 30, lesions: 1197, reachableLesions: 293, coarse: { tolerancePx: 16, hits: 9, pointingGame: 0.3, chance: 0.1 }, meanAp: 0.006, prevalence: 0.001 },
    { label: 'cws', source: 'mask', n: 25, hits: 9, pointingGame: 0.36, chance: 0.009, emptyMaps: 1, upperBound: 0.84, upperBoundHits: 21, meanAp: 0.145, prevalence: 0.002 },
  ],
};
const guided: LocalizationTable = {
  map: 'guided-gradcam',
  name: 'Guided Grad-CAM (eq. 3)',
  tolerancePx: 7.6,
  rows: [
    { label: 'ma', source: 'mask', n: 30, hits: 6, pointingGame: 0.2, chance: 0.046, emptyMaps: 0, meanAp: 0.036, prevalence: 0.001 },
    { label: 'cws', source: 'mask', n: 25, hits: 24, pointingGame: 0.96, chance: 0.009, emptyMaps: 0, meanAp: 0.544, prevalence: 0.002 },
  ],
};
/** CODRAS has boxes for red lesions (ma or hm) and no masks, hence no AUPR; n = 0 gives null rates. */
const codrasCam: LocalizationTable = {
  map: 'gradcam',
  name: 'Grad-CAM (eq. 1–2, 16×16 grid)',
  tolerancePx: 7.6,
  grid: 16,
  rows: [
    { label: 'red', source: 'boxes', n: 40, hits: 12, pointingGame: 0.3, chance: 0.08, emptyMaps: 0, upperBound: 0.95, upperBoundHits: 38 },
    { label: 'hex', source: 'boxes', n: 0, hits: 0, pointingGame: null as never, chance: null as never, emptyMaps: 0 },
  ],
};

const NEW = metadata([
  { ...evaluation('synth-2000:test', 'FundusLens synthetic test split (60 images).'), localization: [guided, gradcam] },
  { ...evaluation('codras-idrid:test', 'CODRAS/IDRiD grading set, test split (103 real photos).'), localization: [codrasCam] },
  evaluation('idrid:test', 'IDRiD segmentation set, test split (6 real photos with expert masks).'),
]);

function show(meta: ModelMetadata) {
  appStore.getState().setCard({ status: 'ready', metadata: meta, rocs: [] });
  return render(<ModelCard />);
}

beforeAll(() => {
  initI18n('en');
});
afterEach(() => {
  cleanup();
  appStore.getState().setCard({ status: 'idle' });
});

describe('ModelCard', () => {
  it('a bundle without localization renders exactly as before (snapshot taken from the card before localization existed)', async () => {
    const { container } = show(OLD);
    await expect(container.innerHTML).toMatchFileSnapshot('./__snapshots__/ModelCard.no-localization.html');
    expect(screen.queryByText(/Where the model looks/)).toBeNull();
  });
});
