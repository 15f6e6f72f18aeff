import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('virtual:pwa-register', () => ({ registerSW: vi.fn(() => vi.fn()) }));
import { firstVisitSettled, SETTLED_QUIET_MS, whenFirstVisitSettled } from './pwa';

type S = Parameters<typeof firstVisitSettled>[0];
const photo = (status: string, details?: string) => ({ status, details: details ? { status: details } : undefined }) as unknown as S['photos'][number];
const state = (model: string, photos: S['photos'] = []): S => ({ model: { status: model } as S['model'], photos, busyId: null });

/** A minimal store: getState/subscribe/set, as zustand's vanilla store. */
function fakeStore(initial: S) {
  let s = initial;
  const listeners = new Set<(s: S) => void>();
  return {
    getState: () => s,
    subscribe: (l: (s: S) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    set(next: S) {
      s = next;
      for (const l of [...listeners]) l(s);
    },
    listeners,
  };
}

describe('service worker registration on a first visit', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('settled = the model loaded or failed, and no photo queued, decoding, analysing or computing its details', () => {
    expect(firstVisitSettled(state('loading'))).toBe(false);
    expect(firstVisitSettled(state('idle'))).toBe(false);
    expect(firstVisitSettled(state('ready'))).toBe(true);
    expect(firstVisitSettled(state('error'))).toBe(true);
    for (const busy of ['queued', 'decoding', 'analysing']) expect(firstVisitSettled(state('ready', [photo('done'), photo(busy)]))).toBe(false);
    expect(firstVisitSettled(state('ready', [photo('done', 'computing')]))).toBe(false);
    expect(firstVisitSettled(state('ready', [photo('done', 'done'), photo('error'), photo('cancelled')]))).toBe(true);
    expect(firstVisitSettled({ ...state('ready'), busyId: 'p1' })).toBe(false); // a job holds the worker between two photos
  });

  it('waits through the model load and the first analysis, then registers once, when idle', () => {
    const store = fakeStore(state('loading'));
    const register = vi.fn();
    whenFirstVisitSettled(store, register, 20_000);
    store.set(state('ready', [photo('analysing')])); // the model is in, a photo already clicked
    vi.advanceTimersByTime(5000);
    expect(register).not.toHaveBeenCalled();
    store.set(state('ready', [photo('done')]));
    expect(register).not.toHaveBeenCalled(); // not in the same task: after the quiet period, when idle
    vi.advanceTimersByTime(SETTLED_QUIET_MS);
    expect(register).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2100);
    expect(register).toHaveBeenCalledTimes(1);
    store.set(state('ready', [photo('done'), photo('done')]));
    vi.advanceTimersByTime(60_000);
    expect(register).toHaveBeenCalledTimes(1);
    expect(store.listeners.size).toBe(0); // unsubscribed
  });

  it('a photo that starts before the idle callback runs keeps it waiting', () => {
    const store = fakeStore(state('loading'));
    const register = vi.fn();
    whenFirstVisitSettled(store, register, 20_000);
    store.set(state('ready'));
    store.set(state('ready', [photo('queued')]));
    vi.advanceTimersByTime(SETTLED_QUIET_MS + 3000);
    expect(register).not.toHaveBeenCalled();
    store.set(state('ready', [photo('done')]));
    vi.advanceTimersByTime(SETTLED_QUIET_MS + 2100);
    expect(register).toHaveBeenCalledTimes(1);
  });

  it('the model in before a photo clicked at once reaches the queue: the photo still goes first', () => {
    const store = fakeStore(state('loading'));
    const register = vi.fn();
    whenFirstVisitSettled(store, register, 20_000);
    store.set(state('ready')); // settled for a moment: the sample is still being fetched
    vi.advanceTimersByTime(400);
    store.set(state('ready', [photo('queued')]));
    store.set(state('ready', [photo('analysing')]));
    vi.advanceTimersByTime(SETTLED_QUIET_MS + 2100);
    expect(register).not.toHaveBeenCalled();
    store.set(state('ready', [photo('done')]));
    vi.advanceTimersByTime(SETTLED_QUIET_MS - 1);
    expect(register).not.toHaveBeenCalled(); // a full quiet period after the result, not what was left of the first
    vi.advanceTimersByTime(2101);
    expect(register).toHaveBeenCalledTimes(1);
  });

  it('registers after the longest wait even when the model never loads (another page) or a photo never ends', () => {
    const store = fakeStore(state('idle'));
    const register = vi.fn();
    whenFirstVisitSettled(store, register, 20_000);
    vi.advanceTimersByTime(19_999);
    expect(register).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(register).toHaveBeenCalledTimes(1);
  });

  it('an already settled store registers at the first idle moment after the quiet period', () => {
    const register = vi.fn();
    whenFirstVisitSettled(fakeStore(state('ready')), register, 20_000);
    vi.advanceTimersByTime(SETTLED_QUIET_MS - 1);
    expect(register).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2101);
    expect(register).toHaveBeenCalledTimes(1);
  });
});
