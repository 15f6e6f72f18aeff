/**
 * Fixtures shared by the components tests (not shipped code: only *.test.tsx import this):
 * the app store with the demo model card, and photos added to it.
 */
import { afterEach, beforeAll } from 'vitest';
import { cleanup } from '@testing-library/react';
import type { AnalysisResult, LabelSpec } from '../core/types';
import { initI18n } from '../i18n';
import { appStore, type PhotoItem } from '../store';

/** English UI, a ready "demo" model card with `labels`; after each test no rendered tree and no photos. */
export function withDemoCard(labels: LabelSpec[]): void {
  beforeAll(() => {
    initI18n('en');
    appStore.getState().setCard({ status: 'ready', metadata: { labels, name: 'demo' } as never });
  });
  afterEach(() => {
    cleanup();
    appStore.getState().clearPhotos();
  });
}

/** Adds one photo to the store: 'done' with `r`, 'analysing' without; `patch` sets more fields. */
export function addPhoto(r: AnalysisResult | undefined, patch: Partial<PhotoItem> = {}): PhotoItem {
  const [id] = appStore.getState().addPhotos([{ name: 'eye.jpg', file: new Blob(['x'], { type: 'image/jpeg' }) }]);
  appStore.getState().updatePhoto(id, { status: r ? 'done' : 'analysing', result: r, ...patch });
  return appStore.getState().photos.find((p) => p.id === id)!;
}
