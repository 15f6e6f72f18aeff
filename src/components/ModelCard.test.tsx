import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import type { EvaluationSummary, LabelSpec, LocalizationTable, ModelMetadata } from '../core/types';
import axe from 'axe-core';
import i18next from 'i18next';
import { initI18n } from '../i18n';
import { appStore } from '../store';
import { ModelCard } from './ModelCard';
import { evaluationSource, localizationViews, rocGroups } from '../services/model-card';

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

/** The text a screen reader reads as the table's description (aria-describedby: several ids). */
function describedBy(el: HTMLElement): string {
  return el
    .getAttribute('aria-describedby')!
    .split(' ')
    .map((id) => document.getElementById(id)!.textContent)
    .join(' ');
}

function show(meta: ModelMetadata, rocs: { name: string; url: string }[] = []) {
  appStore.getState().setCard({ status: 'ready', metadata: meta, rocs });
  return render(<ModelCard />);
}

beforeAll(() => {
  initI18n('en');
});
afterEach(async () => {
  cleanup();
  await i18next.changeLanguage('en');
  appStore.getState().setCard({ status: 'idle' });
});

describe('ModelCard', () => {
  it('a bundle without localization renders exactly as before (snapshot taken from the card before localization existed)', async () => {
    const { container } = show(OLD);
    await expect(container.innerHTML).toMatchFileSnapshot('./__snapshots__/ModelCard.no-localization.html');
    expect(screen.queryByText(/Where the model looks/)).toBeNull();
  });

  it('the same evaluations with localization: Table I unchanged, then one table per map, Grad-CAM first', () => {
    const { container } = show(NEW);
    // Table I is still there for every evaluation, with the same caption
    expect(screen.getByRole('table', { name: /synth-2000:test — FundusLens synthetic test split/ })).toBeTruthy();
    expect(screen.getByRole('table', { name: /idrid:test — IDRiD segmentation set/ })).toBeTruthy();
    const sections = container.querySelectorAll('[data-testid="localization"]');
    expect([...sections].map((s) => s.getAttribute('data-dataset'))).toEqual(['synth-2000:test', 'codras-idrid:test']);
    const headings = within(sections[0] as HTMLElement).getAllByRole('heading').map((h) => `${h.tagName} ${h.textContent}`);
    expect(headings).toEqual(['H4 Where the model looks — synth-2000:test']);
    // tables named by map, Grad-CAM first
    expect(within(sections[0] as HTMLElement).getAllByRole('table').map((x) => x.querySelector('caption')!.textContent)).toEqual([
      'Grad-CAM heat map (16×16 grid) — synth-2000:test',
      'Guided Grad-CAM (fine-detail map) — synth-2000:test',
    ]);
    expect(screen.getByRole('region', { name: 'Where the model looks — codras-idrid:test' })).toBe(sections[1]);
    // the definition and the data source are said once per evaluation
    expect(within(sections[0] as HTMLElement).getAllByText(/Chance = a random point on the retina/)).toHaveLength(1);
    // the localization of synth-2000 comes right after its Table I, before the next evaluation's table
    const synthTable = screen.getByRole('table', { name: /synth-2000:test — FundusLens/ });
    const codrasTable = screen.getByRole('table', { name: /codras-idrid:test — CODRAS/ });
    expect(synthTable.compareDocumentPosition(sections[0]) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(sections[0].compareDocumentPosition(codrasTable) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('Grad-CAM table: colour chip + name, n, pointing game with hits/n, chance, ideal-cell bound, AUPR beside its no-information value', () => {
    show(NEW);
    const table = screen.getByRole('table', { name: 'Grad-CAM heat map (16×16 grid) — synth-2000:test' });
    const cols = within(table).getAllByRole('columnheader').map((c) => c.textContent);
    expect(cols).toEqual(['Lesion', 'Marked as', 'Images (n)', 'Pointing game (hits/n)', 'Chance', 'Best possible on this grid', 'AUPR (no-information value)']);
    const ma = within(table).getByRole('row', { name: /BP\/MA/ });
    const cells = within(ma).getAllByRole('cell').map((c) => c.textContent);
    expect(cells).toEqual(['outline', '30', '16.7% (5/30)', '4.6%', '100% (30/30)', '0.006 (0.001)']);
    const cws = within(table).getByRole('row', { name: /CWS/ });
    expect(within(cws).getAllByRole('cell').map((c) => c.textContent)).toEqual(['outline', '25', '36% (9/25)', '0.9%', '84% (21/25)', '0.145 (0.002)']);
    // the chip carries the bundle's outline colour and is decorative (the name is the text)
    const chip = ma.querySelector('th .swatch') as HTMLElement;
    expect(chip.style.background).toBe('rgb(255, 92, 205)');
    expect(chip.getAttribute('aria-hidden')).toBe('true');
    expect(within(ma).getByRole('rowheader').textContent).toBe('BP/MA');
    // the explanation is tied to the table for screen readers, and says where it was measured
    const desc = describedBy(table);
    expect(desc).toContain('within 7.6 px of a marked lesion (in the 512×512 px model input');
    expect(desc).toContain('Chance = a random point on the retina');
    expect(desc).toContain('Measured on synthetic test images (synth-2000:test), not on real photographs.');
    expect(desc).toContain('one value per 32 px cell');
    expect(desc).not.toContain('fewer than');
    expect(desc).not.toContain('This map was scored within');
    // per single lesion the grid's reach, from the rows that carry it (cws has no lesion counts here)
    expect(desc).toContain('Single lesions within reach of the grid (close enough to a cell centre to be pointed at one by one): BP/MA 24.5% (293/1197).');
    expect(describedBy(screen.getByRole('table', { name: 'Guided Grad-CAM (fine-detail map) — synth-2000:test' }))).not.toContain('Single lesions');
  });

  it('Guided Grad-CAM table has no grid bound; real-photo set with boxes: red row with both chips, no AUPR column, n = 0 as dashes', () => {
    show(NEW);
    const guidedTable = screen.getByRole('table', { name: 'Guided Grad-CAM (fine-detail map) — synth-2000:test' });
    expect(within(guidedTable).queryByRole('columnheader', { name: 'Best possible on this grid' })).toBeNull();
    expect(within(within(guidedTable).getByRole('row', { name: /CWS/ })).getAllByRole('cell').map((c) => c.textContent)).toEqual(['outline', '25', '96% (24/25)', '0.9%', '0.544 (0.002)']);

    const codras = screen.getByRole('table', { name: 'Grad-CAM heat map (16×16 grid) — codras-idrid:test' });
    expect(within(codras).queryByRole('columnheader', { name: /AUPR/ })).toBeNull();
    const red = within(codras).getByRole('row', { name: /Red lesions \(BP\/MA or HM\)/ });
    expect([...red.querySelectorAll('.swatch')].map((c) => (c as HTMLElement).style.background)).toEqual(['rgb(255, 92, 205)', 'rgb(232, 32, 42)']);
    expect(within(red).getAllByRole('cell').map((c) => c.textContent)).toEqual(['box', '40', '30% (12/40)', '8%', '95% (38/40)']);
    const hex = within(codras).getByRole('row', { name: /HEX/ });
    expect(within(hex).getAllByRole('cell').map((c) => c.textContent)).toEqual(['box', '0', '—', '—', '—']);
    const desc = describedBy(codras);
    expect(desc).toContain('Measured on real test photographs (codras-idrid:test).');
    expect(desc).not.toContain('synthetic');
    expect(desc).not.toContain('AUPR');
    // n = 40 is the smallest n with images here: no warning; the 6-photo case below gets one
    expect(desc).not.toContain('fewer than 20 images');
  });

  it('an evaluation that also scored HiResCAM: four tables, the paper’s maps first, each named after its own map; HiResCAM keeps the grid bound, Guided HiResCAM has none', () => {
    const hires: LocalizationTable = { ...gradcam, map: 'hirescam', name: 'HiResCAM (16×16 grid)', rows: [{ ...gradcam.rows[0], hits: 9, pointingGame: 0.3 }] };
    const guidedHires: LocalizationTable = { ...guided, map: 'guided-hirescam', name: 'Guided HiResCAM (eq. 3)', rows: [{ ...guided.rows[0], hits: 12, pointingGame: 0.4 }] };
    const { container } = show(metadata([{ ...evaluation('synth-2000:test', 'x'), localization: [guidedHires, hires, guided, gradcam] }]));
    const section = container.querySelector('[data-testid="localization"]') as HTMLElement;
    expect(within(section).getAllByRole('table').map((x) => x.querySelector('caption')!.textContent)).toEqual([
      'Grad-CAM heat map (16×16 grid) — synth-2000:test',
      'Guided Grad-CAM (fine-detail map) — synth-2000:test',
      'HiResCAM heat map (16×16 grid) — synth-2000:test',
      'Guided HiResCAM (fine-detail map) — synth-2000:test',
    ]);
    const h = screen.getByRole('table', { name: 'HiResCAM heat map (16×16 grid) — synth-2000:test' });
    expect(within(h).getByRole('columnheader', { name: 'Best possible on this grid' })).toBeTruthy();
    expect(within(within(h).getByRole('row', { name: /BP\/MA/ })).getAllByRole('cell').map((c) => c.textContent)).toEqual(['outline', '30', '30% (9/30)', '4.6%', '100% (30/30)', '0.006 (0.001)']);
    expect(describedBy(h)).toContain('HiResCAM, an alternative to the paper’s Grad-CAM');
    expect(describedBy(h)).toContain('one value per 32 px cell');
    expect(describedBy(h)).toContain('Single lesions within reach of the grid');
    const gh = screen.getByRole('table', { name: 'Guided HiResCAM (fine-detail map) — synth-2000:test' });
    expect(within(gh).queryByRole('columnheader', { name: 'Best possible on this grid' })).toBeNull();
    expect(describedBy(gh)).toContain('Guided HiResCAM multiplies HiResCAM by pixel-level detail');
    expect(describedBy(gh)).not.toContain('Guided Grad-CAM multiplies');
  });

  it('a guided table scored with the lesion-contrast saliency says so; one without the field (older bundles: |gradient|) does not', () => {
    const guidedContrast: LocalizationTable = { ...guided, map: 'guided-hirescam', name: 'Guided HiResCAM (eq. 3)', guidedSaliency: 'contrast' };
    show(metadata([{ ...evaluation('synth-2000:test', 'x'), localization: [guided, guidedContrast] }]));
    const contrastNote = 'keeps only the direction of each lesion’s contrast: darker for BP/MA and haemorrhages';
    expect(describedBy(screen.getByRole('table', { name: 'Guided HiResCAM (fine-detail map) — synth-2000:test' }))).toContain(contrastNote);
    expect(describedBy(screen.getByRole('table', { name: 'Guided Grad-CAM (fine-detail map) — synth-2000:test' }))).not.toContain(contrastNote);
  });

  it('a map without annotated images says it was not measured instead of drawing an empty table', () => {
    show(metadata([{ ...evaluation('synth-2000:test', 'x'), localization: [{ ...guided, rows: [] }] }]));
    const section = screen.getByRole('region', { name: 'Where the model looks — synth-2000:test' });
    expect(within(section).queryByRole('table')).toBeNull();
    expect(section.textContent).toContain('Guided Grad-CAM (fine-detail map): No test images with marked lesions: not measured.');
  });

  it('few images: a warning; an unrecognised dataset is not called real or synthetic; a map scored at another tolerance says so', () => {
    const few: LocalizationTable = { ...guided, rows: [{ ...guided.rows[0], n: 6, hits: 0, pointingGame: 0 }] };
    show(metadata([{ ...evaluation('clinic-x', 'in-house photos'), localization: [few, { ...gradcam, tolerancePx: 16 }] }]));
    const table = screen.getByRole('table', { name: 'Guided Grad-CAM (fine-detail map) — clinic-x' });
    const desc = describedBy(table);
    expect(desc).toContain('Rows with fewer than 20 images are uncertain');
    expect(desc).toContain('Measured on the test images of clinic-x.');
    expect(within(table).getByRole('row', { name: /BP\/MA/ }).textContent).toContain('0% (0/6)');
    // Grad-CAM is listed first, so the stated tolerance is its 16 px; the guided table says its own 7.6 px
    expect(desc).toContain('within 16 px of a marked lesion');
    expect(desc).toContain('This map was scored within 7.6 px.');
    expect(describedBy(screen.getByRole('table', { name: /^Grad-CAM heat map/ }))).not.toContain('This map was scored within');
  });

  it('renders in Chinese and Spanish with locale number formats', async () => {
    await i18next.changeLanguage('es');
    show(NEW);
    const table = screen.getByRole('table', { name: 'Mapa de calor Grad-CAM (cuadrícula 16×16) — synth-2000:test' });
    const ma = within(table).getByRole('row', { name: /BP\/MA/ });
    expect(within(ma).getAllByRole('cell')[2].textContent).toMatch(/^16,7\s?% \(5\/30\)$/);
    expect(screen.getAllByText(/Medido en imágenes de prueba sintéticas/).length).toBe(1);
    expect(screen.getByRole('heading', { name: 'Dónde mira el modelo — synth-2000:test' })).toBeTruthy();
    cleanup();
    await i18next.changeLanguage('zh');
    show(NEW);
    expect(screen.getByRole('table', { name: 'Guided Grad-CAM（细节图）——synth-2000:test' })).toBeTruthy();
    expect(screen.getAllByText(/在真实测试照片（codras-idrid:test）上测得/).length).toBe(1);
  });
});

describe('ModelCard ROC plots', () => {
  const M = 'http://app.test/models/demo/';
  it('a card whose plots were not looked for yet probes them when shown, once, and draws the ones that exist', async () => {
    const heads: string[] = [];
    vi.stubGlobal('fetch', (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      if (init?.method === 'HEAD') heads.push(url.split('/').pop()!);
      return url.endsWith('/roc-hex.svg') ? new Response('', { headers: { 'content-type': 'image/svg+xml' } }) : new Response('', { status: 404 });
    }) as typeof fetch);
    try {
      appStore.getState().setCard({ status: 'ready', metadata: NEW });
      render(<ModelCard />);
      await waitFor(() => expect(screen.getByRole('img', { name: /ROC hex/ })).toBeTruthy());
      expect(heads).toContain('roc-dr.svg');
      const n = heads.length;
      expect(appStore.getState().card.rocs?.map((r) => r.name)).toEqual(['hex']);
      cleanup();
      render(<ModelCard />); // shown again: already known, no new requests
      await new Promise((r) => setTimeout(r, 20));
      expect(heads.length).toBe(n);
    } finally {
      vi.unstubAllGlobals();
    }
  });
  it('first-evaluation plots only: the same markup as before', () => {
    const { container } = show(NEW, [{ name: 'hex', url: `${M}roc-hex.svg` }, { name: 'dr', url: `${M}roc-dr.svg` }]);
    expect(container.innerHTML).toContain(
      `<h3>ROC curves</h3><div class="rocs"><figure><img alt="ROC hex" width="280" src="${M}roc-hex.svg"><figcaption>hex</figcaption></figure><figure><img alt="ROC dr" width="280" src="${M}roc-dr.svg"><figcaption>dr</figcaption></figure></div><h3>Labels and decision thresholds</h3>`,
    );
  });
  it('plots of later evaluations: one headed set per dataset, alt text names the dataset', () => {
    show(NEW, [
      { name: 'hex', url: `${M}roc-hex.svg` },
      { name: 'eval2-red', url: `${M}eval2-roc-red.svg` },
      { name: 'eval2-hex', url: `${M}eval2-roc-hex.svg` },
    ]);
    expect(screen.getAllByRole('heading', { name: /^ROC curves/ }).map((h) => `${h.tagName} ${h.textContent}`)).toEqual([
      'H4 ROC curves — synth-2000:test',
      'H4 ROC curves — codras-idrid:test',
    ]);
    expect(screen.getByRole('img', { name: 'ROC red (codras-idrid:test)' }).getAttribute('src')).toBe(`${M}eval2-roc-red.svg`);
    expect(screen.getByRole('img', { name: 'ROC hex (synth-2000:test)' })).toBeTruthy();
  });
  it('rocGroups: unprefixed = first evaluation; unknown evaluation index keeps no dataset', () => {
    const g = rocGroups(
      [
        { name: 'eval4-ma', url: 'u4' },
        { name: 'ma', url: 'u1' },
      ],
      [{ dataset: 'a' }, { dataset: 'b' }],
    );
    expect(g).toEqual([
      { evaluation: 0, dataset: 'a', rocs: [{ name: 'ma', label: 'ma', url: 'u1' }] },
      { evaluation: 3, dataset: undefined, rocs: [{ name: 'eval4-ma', label: 'ma', url: 'u4' }] },
    ]);
  });
});

describe('ModelCard accessibility', () => {
  it('the card with localization tables has no WCAG A/AA violations axe can see in jsdom (contrast is checked in e2e)', async () => {
    const { container } = show(NEW);
    const r = await axe.run(container, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, rules: { 'color-contrast': { enabled: false } } });
    expect(r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    // the rules that matter for these tables did run
    expect(r.passes.map((p) => p.id)).toEqual(expect.arrayContaining(['th-has-data-cells', 'aria-valid-attr-value']));
  });
});

describe('model-card localization helpers', () => {
  it('evaluationSource reads the dataset name and never calls an unknown set real', () => {
    expect(evaluationSource({ dataset: 'synth-2000:test' })).toBe('synthetic');
    expect(evaluationSource({ dataset: 'codras-idrid:test' })).toBe('real');
    expect(evaluationSource({ dataset: 'idrid:test' })).toBe('real');
    expect(evaluationSource({ dataset: 'messidor' })).toBe('real');
    expect(evaluationSource({ dataset: 'clinic-x' })).toBe('unknown');
    expect(evaluationSource({ dataset: 'hybrid' })).toBe('unknown');
  });
  it('localizationViews: none for older summaries; maps ordered, nulls and NaN sanitised, Guided has no bound', () => {
    expect(localizationViews(OLD.evaluation[0], labels, 512)).toEqual([]);
    const v = localizationViews(NEW.evaluation[0], labels, 512);
    expect(v.map((x) => [x.map, x.grid, x.cellPx, x.hasAupr, x.minN])).toEqual([
      ['gradcam', 16, 32, true, 25],
      ['guided-gradcam', null, null, true, 25],
    ]);
    const odd: LocalizationTable = { ...guided, rows: [{ ...guided.rows[0], pointingGame: Number.NaN, upperBound: 0.5, meanAp: null as never }] };
    const [g] = localizationViews({ ...OLD.evaluation[0], localization: [odd] }, labels, 512);
    expect(g.rows[0]).toMatchObject({ pointingGame: null, upperBound: null, meanAp: null, colours: ['#ff5ccd'] });
    expect(g.hasAupr).toBe(false);
  });
});
