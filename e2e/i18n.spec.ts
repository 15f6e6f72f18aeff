import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { APP } from './helpers';
import { exportFileWithOneRecord } from './fixtures-records';

const PATIENT = 'I18N-7';

test('patient view in English, Simplified Chinese and Spanish; shareable HTML and PDF', async ({ page }) => {
  await page.goto(`${APP}#/records`);
  await page.getByTestId('import-input').setInputFiles({ name: 'one.funduslens.json', mimeType: 'application/json', buffer: await exportFileWithOneRecord(page.request, PATIENT) });
  await expect(page.getByTestId('records-message')).toHaveText('1 record(s) imported.');
  await page.getByRole('row', { name: new RegExp(PATIENT) }).getByRole('link').first().click();
  await page.getByRole('link', { name: 'Patient view' }).click();
  const view = page.getByTestId('patient-view');

  const expected = {
    en: { title: 'Your eye check result', summary: 'The photo shows signs that an eye doctor should look at:', finding: 'fatty deposits (hard exudates)', next: 'Please make an appointment with an eye doctor soon.' },
    zh: { title: '您的眼部检查结果', summary: '照片中有一些需要眼科医生查看的迹象：', finding: '黄色的脂肪沉积', next: '请尽快预约眼科医生' },
    es: { title: 'El resultado de su revisión de la vista', summary: 'La foto muestra señales que debe mirar un médico de los ojos:', finding: 'depósitos de grasa amarillentos', next: 'Pida pronto una cita con un médico de los ojos' },
  } as const;
  for (const [lang, e] of Object.entries(expected)) {
    await page.getByTestId('patient-language').selectOption(lang);
    await expect(view).toHaveAttribute('lang', lang);
    await expect(view.getByRole('heading', { level: 2 })).toHaveText(e.title);
    await expect(page.getByTestId('patient-summary')).toHaveText(e.summary);
    await expect(view.locator('.patient-findings li')).toHaveText([e.finding]);
    await expect(page.getByTestId('patient-next')).toContainText(e.next);
    await expect(view.getByTestId('annotated-photo')).toBeVisible();
    // no jargon in the patient's words: no label codes, no probabilities
    await expect(view).not.toContainText(/HEX|BP\/MA|\d+ ?%|Grad-CAM/);
  }

  // Chinese sheet as one self-contained HTML file: inline photo, no scripts, nothing external
  await page.getByTestId('patient-language').selectOption('zh');
  const [html] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as a file (HTML)' }).click()]);
  expect(html.suggestedFilename()).toMatch(/-zh\.html$/);
  const doc = readFileSync((await html.path())!, 'utf8');
  expect(doc).toContain('<html lang="zh">');
  expect(doc).toContain('您的眼部检查结果');
  expect(doc).toContain(`患者：${PATIENT}`);
  expect(doc).toContain('src="data:image/jpeg;base64,');
  expect(doc).not.toMatch(/<script|https?:\/\//);

  // Spanish PDF: real text
  await page.getByTestId('patient-language').selectOption('es');
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as PDF' }).click()]);
  const bytes = readFileSync((await pdf.path())!, 'latin1');
  expect(bytes.startsWith('%PDF-')).toBe(true);
  expect(bytes).toContain(`(Para: ${PATIENT})`);
  // Chinese PDF: the lines are drawn as images (jsPDF's built-in fonts have no CJK glyphs)
  await page.getByTestId('patient-language').selectOption('zh');
  const [zhPdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as PDF' }).click()]);
  const zhBytes = readFileSync((await zhPdf.path())!, 'latin1');
  expect(zhBytes.startsWith('%PDF-')).toBe(true);
  expect((zhBytes.match(/\/Subtype \/Image/g) ?? []).length).toBeGreaterThan(5);
});

test('the language switcher changes the whole UI and is remembered after a reload', async ({ page }) => {
  await page.goto(APP);
  await page.getByTestId('language-select').selectOption('zh');
  await expect(page.getByRole('navigation')).toContainText('记录');
  await expect(page.getByTestId('disclaimer')).toContainText('筛查辅助工具，不是诊断。');
  await expect(page.locator('html')).toHaveAttribute('lang', /^zh/);
  await page.reload();
  await expect(page.getByRole('navigation')).toContainText('记录');
  await expect(page.getByTestId('language-select')).toHaveValue('zh');
  await page.getByTestId('language-select').selectOption('es');
  await expect(page.getByRole('link', { name: 'Registros' })).toBeVisible();
  await expect(page.getByTestId('disclaimer')).toContainText('Ayuda para el cribado, no un diagnóstico.');
  await page.reload();
  await expect(page.getByRole('link', { name: 'Registros' })).toBeVisible();
  await page.getByTestId('language-select').selectOption('en');
  await expect(page.getByRole('link', { name: 'Records', exact: true })).toBeVisible();
});

test('a patient id in Chinese script survives the Latin-only PDF fonts (drawn as an image) and shows as text everywhere else', async ({ page }) => {
  const id = '王伟-3';
  await page.goto(`${APP}#/records`);
  await page.getByTestId('import-input').setInputFiles({ name: 'zh.funduslens.json', mimeType: 'application/json', buffer: await exportFileWithOneRecord(page.request, id) });
  await page.getByRole('searchbox', { name: 'Patient' }).fill('王伟');
  await page.getByRole('row', { name: new RegExp(id) }).getByRole('link').first().click();
  await expect(page.getByTestId('record-patient')).toHaveText(id);
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF report' }).click()]);
  const bytes = readFileSync((await pdf.path())!, 'latin1');
  expect(bytes.startsWith('%PDF-')).toBe(true);
  // the photo + the id rendered as an image; no mangled text of it
  expect((bytes.match(/\/Subtype \/Image/g) ?? []).length).toBeGreaterThanOrEqual(2);
  expect(pdf.suggestedFilename()).toContain('王伟-3');
});
