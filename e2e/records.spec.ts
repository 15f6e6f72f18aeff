import { readFileSync } from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import { APP, openSample } from './helpers';

/**
 * Records journey: analyse -> save as record -> reload -> still there -> report PDF with
 * the patient id -> export -> delete -> import the file -> back; CSV register; review.
 */
const PATIENT = 'E2E-PDF-0042';

async function saveCurrent(page: Page, patient: string, eye: 'Right eye (OD)' | 'Left eye (OS)') {
  const form = page.getByRole('region', { name: 'Save as record' }).or(page.locator('section.save-record'));
  await form.getByLabel('Patient identifier').fill(patient);
  await form.getByRole('radio', { name: eye }).check();
  await form.getByLabel('Camera').fill('Topcon, "NW400"');
  await form.getByRole('button', { name: 'Save record' }).click();
  await expect(page.getByTestId('record-saved')).toBeVisible();
}

const text = async (d: Download) => readFileSync((await d.path())!, 'latin1');

test('save a record, reload, find it, PDF report, export -> delete -> import round trip, CSV, review override', async ({ page }) => {
  test.setTimeout(300_000);
  page.on('dialog', (d) => void d.accept());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e.stack)));
  await page.goto(APP);
  await openSample(page, /Analyse sample: Hard exudates/);
  await saveCurrent(page, PATIENT, 'Right eye (OD)');

  // reload: the record is in IndexedDB, not in memory
  await page.reload();
  await page.getByRole('link', { name: 'Records', exact: true }).click();
  const table = page.getByTestId('records-table');
  await expect(table.getByRole('row', { name: new RegExp(PATIENT) })).toBeVisible();
  await expect(page.getByTestId('storage-usage')).toContainText('MB');
  await table.getByTestId('record-cell').first().getByRole('link').click();
  await expect(page.getByTestId('record-patient')).toHaveText(PATIENT);
  await expect(page.getByTestId('annotated-photo')).toBeVisible();
  await expect(page.getByText('Screening aid, not a diagnosis.').first()).toBeVisible();

  // print stylesheet: the report alone, with its disclaimer; no navigation or buttons
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('navigation')).toBeHidden();
  await expect(page.getByRole('button', { name: 'Download PDF report' })).toBeHidden();
  await expect(page.getByRole('heading', { name: 'Retinal screening report' })).toBeVisible();
  await expect(page.getByTestId('record-view').getByRole('note')).toHaveText('Screening aid, not a diagnosis.');
  await expect(page.getByTestId('annotated-photo')).toBeVisible();
  await page.emulateMedia({ media: 'screen' });

  // PDF report names the patient and carries the disclaimer, thresholds and model
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF report' }).click()]);
  expect(pdf.suggestedFilename()).toMatch(/^funduslens-report-E2E-PDF-0042-OD-\d{4}-\d{2}-\d{2}\.pdf$/);
  const pdfText = await text(pdf);
  expect(pdfText.startsWith('%PDF-')).toBe(true);
  expect(pdfText).toContain(`(${PATIENT})`);
  expect(pdfText).toContain('Screening aid, not a diagnosis.');
  expect(pdfText).toMatch(/Thresholds/);
  expect(pdfText).toMatch(/\/Subtype \/Image/);

  // clinician review: override one label, the record keeps it
  await page.getByLabel('Reviewer').fill('Dr Test');
  await page.getByLabel('Your verdict for HEX').selectOption('no');
  await page.getByLabel('Your verdict for BP/MA').selectOption('yes');
  await page.getByRole('button', { name: 'Save review' }).click();
  await expect(page.getByText('Review saved.')).toBeVisible();
  await page.reload();
  await expect(page.locator('tr[data-label=ma] td').last()).toHaveText('positive');
  await expect(page.getByTestId('record-action')).toContainText('Refer to an eye specialist');

  // export everything, delete, import the file again
  await page.getByRole('link', { name: 'Records', exact: true }).click();
  const [exp] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Export \d+ record/ }).click()]);
  expect(exp.suggestedFilename()).toMatch(/\.funduslens\.json$/);
  const exported = JSON.parse(readFileSync((await exp.path())!, 'utf8')) as { format: string; records: { record: { patientId: string; review?: { reviewer: string } } }[] };
  expect(exported.format).toBe('funduslens-records');
  const mine = exported.records.find((r) => r.record.patientId === PATIENT);
  expect(mine?.record.review?.reviewer).toBe('Dr Test');

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Register (CSV)' }).click()]);
  const csvText = readFileSync((await csv.path())!, 'utf8');
  expect(csvText.split('\r\n')[0]).toContain('patient_id');
  expect(csvText).toContain(`${PATIENT},`);
  expect(csvText).toContain('"Topcon, ""NW400"""');

  await page.getByTestId('records-table').getByTestId('record-cell').first().getByRole('link').click();
  await page.getByRole('button', { name: 'Delete this record' }).click();
  await expect(page).toHaveURL(/#\/records$/);
  await expect(page.getByRole('row', { name: new RegExp(PATIENT) })).toHaveCount(0);

  await page.getByTestId('import-input').setInputFiles((await exp.path())!);
  await expect(page.getByTestId('records-message')).toHaveText(/record\(s\) imported/);
  await expect(page.getByRole('row', { name: new RegExp(PATIENT) })).toBeVisible();
  await page.getByRole('row', { name: new RegExp(PATIENT) }).getByTestId('record-cell').first().getByRole('link').click();
  await expect(page.getByTestId('record-patient')).toHaveText(PATIENT);
  await expect(page.getByText(/Reviewed by Dr Test/)).toBeVisible();
  expect(errors).toEqual([]);
});

test('both eyes of a visit side by side; a file that is not an export is refused with a clear message', async ({ page }) => {
  test.setTimeout(300_000);
  page.on('pageerror', (e) => console.log('pageerror', e.stack));
  page.on('console', (m) => console.log('console', m.type(), m.text().slice(0, 300)));
  await page.goto(APP);
  await openSample(page, /Analyse sample: Healthy retina/);
  await saveCurrent(page, 'E2E-BOTH', 'Right eye (OD)');
  await page.getByRole('button', { name: 'Save another record of this photo' }).click();
  await saveCurrent(page, 'E2E-BOTH', 'Left eye (OS)');
  await page.goto(`${APP}#/records`);
  await page.getByRole('searchbox', { name: 'Patient' }).fill('e2e-both');
  const row = page.getByRole('row', { name: /E2E-BOTH/ });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('record-cell')).toHaveCount(2);
  await expect(row.getByRole('cell').nth(1)).toContainText('Right eye (OD)');
  await expect(row.getByRole('cell').nth(2)).toContainText('Left eye (OS)');
  await page.getByTestId('import-input').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello":1}') });
  await expect(page.getByRole('alert')).toContainText('not a FundusLens records file');
});

test('storage full: a clear message, the record stays in memory and can be exported, then saved once space is back', async ({ page }) => {
  test.setTimeout(240_000);
  // the browser refuses to store the photo, as it does when the origin's quota is used up
  await page.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (this.name === 'photos' && (window as unknown as { __full?: boolean }).__full !== false) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
  });
  await page.goto(APP);
  await openSample(page, /Analyse sample: Microaneurysms/);
  const form = page.locator('section.save-record');
  await form.getByLabel('Patient identifier').fill('FULL-1');
  await form.getByRole('radio', { name: 'Right eye (OD)' }).check();
  await form.getByRole('button', { name: 'Save record' }).click();
  await expect(page.getByTestId('save-error')).toHaveAttribute('data-code', 'storage-full');
  await expect(page.getByTestId('save-error')).toContainText(/storage for FundusLens is full/);
  const unsaved = page.getByTestId('unsaved-records');
  await expect(unsaved).toContainText('1 record(s) could not be stored');
  // nothing half-written: the history is empty
  await page.getByRole('link', { name: 'Records', exact: true }).click();
  await expect(page.getByText('No records match.')).toBeVisible();
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('unsaved-records').getByRole('button', { name: 'Export to a file now' }).click()]);
  const exported = JSON.parse(readFileSync((await file.path())!, 'utf8')) as { records: { record: { patientId: string }; photo: { base64: string } }[] };
  expect(exported.records.map((r) => r.record.patientId)).toEqual(['FULL-1']);
  expect(exported.records[0].photo.base64.length).toBeGreaterThan(1000);
  // space is back: "try saving again" stores it
  await page.evaluate(() => ((window as unknown as { __full?: boolean }).__full = false));
  await page.getByTestId('unsaved-records').getByRole('button', { name: 'Try saving again' }).click();
  await expect(page.getByTestId('unsaved-records')).toHaveCount(0);
  await expect(page.getByRole('row', { name: /FULL-1/ })).toBeVisible();
});
