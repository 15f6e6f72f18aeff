import type { APIRequestContext } from '@playwright/test';

/**
 * A FundusLens export file built the way a user would have one (from another device):
 * one analysed record around a bundled sample photo. Lets journeys that are about
 * records, languages and reports skip the analysis itself.
 */
export async function exportFileWithOneRecord(request: APIRequestContext, patientId: string, o: { positive?: boolean } = {}): Promise<Buffer> {
  const photo = await (await request.get('/samples/04-hard-exudates.jpg')).body();
  const pos = o.positive ?? true;
  const record = {
    id: `rfixture-${patientId.replace(/[^a-z0-9]/gi, '')}`,
    patientId,
    eye: 'OS',
    captureDate: '2026-11-02',
    photoName: 'hard-exudates.jpg',
    photoType: 'image/jpeg',
    photoWidth: 1024,
    photoHeight: 683,
    analysis: {
      quality: { gradable: true, score: 0.81, reasons: [], codes: [], measures: {} },
      forced: false,
      probabilities: { ma: 0.2, hm: 0.1, hex: pos ? 0.91 : 0.1, cws: 0.05, healthy: pos ? 0.05 : 0.9 },
      positive: { ma: false, hm: false, hex: pos, cws: false, healthy: !pos },
      summary: pos ? 'dr-signs' : 'healthy',
      outlines: pos ? [{ label: 'hex', points: [[600, 300], [680, 300], [680, 360], [600, 360]], area: 4800, score: 0.9 }] : [],
      transform: { inputSize: 512, photoWidth: 1024, photoHeight: 683, scale: 1.4, offsetX: 154, offsetY: -17 },
      backend: 'wasm',
      model: 'fixture@1.2.3',
      modelName: 'fixture',
      modelVersion: '1.2.3',
      labels: [
        { id: 'ma', name: 'BP/MA', plainName: 'small spots of bleeding (microaneurysms)', colour: '#ff4fd8', threshold: 0.5 },
        { id: 'hm', name: 'HM', plainName: 'bleeding (haemorrhages)', colour: '#e0202a', threshold: 0.5 },
        { id: 'hex', name: 'HEX', plainName: 'fatty deposits (hard exudates)', colour: '#ffd500', threshold: 0.5 },
        { id: 'cws', name: 'CWS', plainName: 'swollen nerve fibres (cotton wool spots)', colour: '#2f7bff', threshold: 0.5 },
        { id: 'healthy', name: 'Healthy', plainName: 'no signs found', colour: null, threshold: 0.5 },
      ],
    },
    createdAt: '2026-11-02T09:00:00.000Z',
    updatedAt: '2026-11-02T09:00:00.000Z',
    revision: 1,
  };
  const file = {
    format: 'funduslens-records',
    version: 1,
    exportedAt: '2026-11-02T10:00:00.000Z',
    app: 'FundusLens',
    records: [{ record, photo: { type: 'image/jpeg', base64: photo.toString('base64') }, thumbnail: null }],
  };
  return Buffer.from(JSON.stringify(file));
}
