import { describe, expect, it, vi } from 'vitest';
import { createAppStore } from './index';

describe('records slice', () => {
  it('an app update never reloads under unsaved record edits; it applies once they are saved', () => {
    const store = createAppStore();
    const apply = vi.fn();
    store.getState().setUpdateReady(apply);
    store.getState().setRecordsDirty(true);
    store.getState().deferUpdate();
    expect(apply).not.toHaveBeenCalled();
    expect(store.getState().update.deferred).toBe(true);
    store.getState().setRecordsDirty(false);
    expect(apply).toHaveBeenCalledTimes(1);
  });

  it('a record whose save failed is kept in memory (blocking updates) until dropped', () => {
    const store = createAppStore();
    const apply = vi.fn();
    store.getState().setUpdateReady(apply);
    const rec = { record: { id: 'r1' }, photo: new Blob([]), thumbnail: null } as never;
    store.getState().keepUnsaved(rec);
    store.getState().keepUnsaved(rec);
    expect(store.getState().records.unsaved).toHaveLength(1);
    store.getState().deferUpdate();
    expect(apply).not.toHaveBeenCalled();
    store.getState().dropUnsaved('r1');
    store.getState().setRecordsDirty(false);
    expect(apply).toHaveBeenCalledTimes(1);
  });
});
