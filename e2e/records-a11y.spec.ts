import { expect, test, type Page } from '@playwright/test';
import { createRequire } from 'node:module';
import { APP } from './helpers';
import { exportFileWithOneRecord } from './fixtures-records';

// axe-core WCAG 2.1 A/AA scan of the records, record (clinician report), patient and batch screens.
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
test.use({ bypassCSP: true }); // axe is injected as an inline script

async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id} (${v.impact}) @ ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

test('records list, clinician report, patient view (zh) and batch page: no WCAG A/AA violations (axe-core)', async ({ page }) => {
  await page.goto(`${APP}#/records`);
  await page.getByTestId('import-input').setInputFiles({ name: 'a.funduslens.json', mimeType: 'application/json', buffer: await exportFileWithOneRecord(page.request, 'A11Y-1') });
  await expect(page.getByTestId('records-table')).toBeVisible();
  expect(await violations(page)).toEqual([]);
  await page.getByRole('row', { name: /A11Y-1/ }).getByRole('link').first().click();
  await expect(page.getByTestId('annotated-photo')).toBeVisible();
  expect(await violations(page)).toEqual([]);
  await page.getByRole('link', { name: 'Patient view' }).click();
  await page.getByTestId('patient-language').selectOption('zh');
  await expect(page.getByTestId('annotated-photo')).toBeVisible();
  expect(await violations(page)).toEqual([]);
  await page.goto(`${APP}#/batch`);
  await expect(page.getByRole('heading', { name: 'Batch screening' })).toBeVisible();
  expect(await violations(page)).toEqual([]);
});
