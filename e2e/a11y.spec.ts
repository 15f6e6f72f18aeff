import { expect, test, type Page } from '@playwright/test';
import { createRequire } from 'node:module';
import { APP, openSample } from './helpers';

// Automated WCAG 2.1 A/AA scan (axe-core) of the main screens with a result on screen.
// It cannot judge everything (keyboard.spec.ts drives the keyboard path), but it catches
// unlabelled controls, missing names, ARIA misuse and low contrast.
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
test.use({ bypassCSP: true }); // axe is injected as an inline script

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

async function scan(page: Page, include?: string): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async (sel) => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(sel ? { include: [sel] } : document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target })) }));
  }, include);
}

const summary = (v: AxeViolation[]) => v.map((x) => `${x.id} (${x.impact}): ${x.help} @ ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`);

test('analyse screen with a result: no WCAG A/AA violations (axe-core)', async ({ page }) => {
  await page.goto(APP);
  await openSample(page, /Analyse sample: Hard exudates/);
  await page.getByText('Timings per stage').click();
  expect(summary(await scan(page))).toEqual([]);
});

test('model card and an error state: no WCAG A/AA violations (axe-core)', async ({ page }) => {
  await page.goto(APP);
  await page.locator('#file-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
  await expect(page.getByTestId('photo-error')).toBeVisible();
  expect(summary(await scan(page))).toEqual([]);
  await page.getByRole('link', { name: 'Model card' }).click();
  await expect(page.getByRole('heading', { name: 'Intended use' })).toBeVisible();
  expect(summary(await scan(page, 'main'))).toEqual([]);
});
