import { expect, test } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { APP } from './helpers';

/** The bundle the build serves: the card must show what its metadata.json holds, nothing more. */
interface BundleEvaluation {
  dataset: string;
  localization?: { map: string; rows: { label: string; n: number; hits: number }[] }[];
}
const bundle = JSON.parse(readFileSync(new URL('../public/models/demo/metadata.json', import.meta.url), 'utf8')) as { evaluation: BundleEvaluation[] };
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('demo mode cycles hands-free (photo, then overlays with the verdict) and stops on a key', async ({ page }) => {
  await page.goto(APP);
  await page.getByRole('link', { name: 'Demo mode' }).click();
  const demo = page.getByTestId('demo');
  await expect(demo).toBeVisible();
  await expect(demo).toHaveAttribute('data-phase', 'reveal', { timeout: 150_000 });
  await expect(page.locator('.demo-verdict')).toHaveText(/diabetic retinopathy|No signs|Ungradable/);
  await expect(demo.getByText(/not a diagnosis/i)).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(demo).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('FundusLens');
});

test('demo mode after a long session: a sample analysed earlier and since set aside to save memory is shown again, photo and all', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto(APP);
  // five samples: the store keeps four photos in memory, so the first one (the demo's first) gets shelved
  for (const title of ['Healthy retina', 'Microaneurysms', 'Hard exudates', 'Cotton wool spots', 'All four lesion types']) {
    await page.getByRole('button', { name: `Analyse sample: ${title}` }).click();
  }
  await expect(page.getByRole('region', { name: 'Queue' }).locator('[data-status=done]')).toHaveCount(5, { timeout: 200_000 });
  await page.getByRole('link', { name: 'Demo mode' }).click();
  const demo = page.getByTestId('demo');
  await expect(demo).toHaveAttribute('data-phase', /photo|reveal/, { timeout: 120_000 });
  await expect(demo.locator('.demo-title')).toHaveText('Healthy retina');
  // the photo is drawn while its title shows (a shelved photo without its bitmap would leave the canvas black until
  // the demo moves on to the next sample, which is in memory)
  await expect
    .poll(
      () =>
        page.evaluate(() => {
          if (document.querySelector('.demo-title')?.textContent !== 'Healthy retina') return -1;
          const c = document.querySelector('[data-testid=demo] [data-testid=photo-layer]') as HTMLCanvasElement | null;
          if (!c) return 0;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 30) n++;
          return n;
        }),
      { timeout: 6_000 },
    )
    .toBeGreaterThan(10_000);
});

test('model card shows intended use, thresholds and limitations from the bundle metadata', async ({ page }) => {
  await page.goto(APP);
  await page.getByRole('link', { name: 'Model card' }).click();
  await expect(page.getByRole('heading', { name: /Model card/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Intended use' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Labels and decision thresholds' })).toBeVisible();
  await expect(page.getByRole('row', { name: /HEX/ }).first()).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Limitations' })).toBeVisible();
});

test('model card: "where the model looks" tables for exactly the evaluations the bundle scored, with hits/n per lesion', async ({ page }) => {
  const scored = bundle.evaluation.filter((e) => e.localization?.length);
  await page.goto(APP);
  await page.getByRole('link', { name: 'Model card' }).click();
  await expect(page.getByRole('heading', { name: 'Intended use' })).toBeVisible();
  // Table I for every evaluation, as before
  for (const ev of bundle.evaluation) await expect(page.getByRole('table', { name: new RegExp(`^${escapeRe(ev.dataset)} — `) })).toHaveCount(1);
  // a bundle without localization shows none (the demo bundle before its re-evaluation)
  await expect(page.getByTestId('localization')).toHaveCount(scored.length);
  await expect(page.getByRole('heading', { name: /^Where the model looks — / })).toHaveCount(scored.length);
  for (const ev of scored) {
    const section = page.getByRole('region', { name: `Where the model looks — ${ev.dataset}` });
    await expect(section).toContainText(/Measured on (synthetic test images|real test photographs|the test images of)/);
    for (const t of ev.localization!) {
      if (!t.rows.length) continue;
      // a bundle evaluated with HiResCAM too carries four tables, each named after its map
      const name = ({ gradcam: 'Grad-CAM heat map', 'guided-gradcam': 'Guided Grad-CAM', hirescam: 'HiResCAM heat map', 'guided-hirescam': 'Guided HiResCAM' } as Record<string, string>)[t.map];
      const table = section.getByRole('table', { name: new RegExp(`^${escapeRe(name)}.* — ${escapeRe(ev.dataset)}$`) });
      await expect(table.getByRole('row')).toHaveCount(t.rows.length + 1);
      const r = t.rows.find((x) => x.n > 0);
      if (r) await expect(table.getByRole('cell', { name: new RegExp(`\\(${r.hits}/${r.n}\\)$`) }).first()).toBeVisible();
    }
  }
});

test('model card: ROC plots of every evaluation the bundle carries, each set headed with its dataset', async ({ page }) => {
  // export names evaluation k's charts eval<k>-roc-*.svg (k >= 2); the first keeps roc-*.svg
  const files = readdirSync(new URL('../public/models/demo/', import.meta.url));
  const sets = bundle.evaluation.map((e, i) => ({ dataset: e.dataset, n: files.filter((f) => new RegExp(`^${i ? `eval${i + 1}-` : ''}roc-[a-z]+\\.svg$`).test(f)).length }));
  await page.goto(APP);
  await page.getByRole('link', { name: 'Model card' }).click();
  await expect(page.getByRole('heading', { name: 'Intended use' })).toBeVisible();
  const grouped = sets.slice(1).some((s) => s.n);
  // one plain 'ROC curves' heading for a bundle with the first evaluation's plots only, else one per set
  await expect(page.getByRole('heading', { name: 'ROC curves', exact: true })).toHaveCount(!grouped && sets[0]?.n ? 1 : 0);
  if (grouped) {
    for (const s of sets.filter((x) => x.n)) {
      await expect(page.getByRole('heading', { name: `ROC curves — ${s.dataset}` })).toBeVisible();
      await expect(page.getByRole('img', { name: new RegExp(`^ROC \\w+ \\(${escapeRe(s.dataset)}\\)$`) })).toHaveCount(s.n);
    }
  } else {
    await expect(page.getByRole('heading', { name: /^ROC curves — / })).toHaveCount(0);
  }
});
