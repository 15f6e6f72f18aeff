import { expect, test } from '@playwright/test';
import { APP, openSample } from './helpers';

/**
 * No request leaves the origin: a whole session (load, analyse, save a record, history,
 * report PDF, patient view in another language, model card) is recorded at the browser
 * context (page, worker and service-worker requests) and every URL must be ours. The CSP
 * must be the strict one and report no violation while the app does all that.
 */
test('a full session makes same-origin requests only, under a strict CSP with no violations', async ({ page, context, baseURL }) => {
  test.setTimeout(300_000);
  const origin = new URL(baseURL!).origin;
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  await context.addInitScript(() => {
    (window as unknown as { __csp: string[] }).__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  await page.goto(APP);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toMatch(/https?:/);

  await openSample(page, /Analyse sample: Cotton wool spots/);
  const form = page.locator('section.save-record');
  await form.getByLabel('Patient identifier').fill('PRIV-1');
  await form.getByRole('radio', { name: 'Right eye (OD)' }).check();
  await form.getByRole('button', { name: 'Save record' }).click();
  await expect(page.getByTestId('record-saved')).toBeVisible();
  await page.getByRole('link', { name: 'Open the record' }).click();
  await expect(page.getByTestId('annotated-photo')).toBeVisible();
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF report' }).click()]);
  expect(await pdf.failure()).toBeNull();
  await page.getByRole('link', { name: 'Patient view' }).click();
  await page.getByTestId('patient-language').selectOption('zh');
  await expect(page.getByTestId('patient-view')).toContainText('您的眼部检查结果');
  await page.getByRole('link', { name: 'Model card' }).click();
  await page.getByRole('link', { name: 'Records' }).click();
  await expect(page.getByTestId('records-table')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('records-table')).toBeVisible();

  const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
  expect(requests.length).toBeGreaterThan(10);
  expect(foreign).toEqual([]);
  // the model, the wasm binaries and the samples all came from here
  expect(requests.some((u) => u.endsWith('/models/demo/model.json'))).toBe(true);
  expect(requests.some((u) => u.includes('/samples/'))).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
});

for (const backend of ['webgl', 'webgpu'] as const) {
  test(`the ${backend} backend works under the CSP (no violation, no fallback)`, async ({ page, context }) => {
    test.setTimeout(300_000);
    await context.addInitScript(() => {
      (window as unknown as { __csp: string[] }).__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`/?backend=${backend}`);
    await openSample(page, /Analyse sample: Hard exudates/);
    await expect(page.getByTestId('backend')).toHaveText(backend);
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
  });
}
