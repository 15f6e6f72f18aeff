import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { createAppStore } from '../../store';
import { currentRecord, shownVector } from '../../store/annotate';
import { createAnnotationController } from './controller';
import { openAnnotationDb } from './db';
import { parseCsv } from './csv';
import type { Suggestion } from './labels';

const jpeg = (n: number) => new Blob([new Uint8Array([0xff, 0xd8, n])], { type: 'image/jpeg' });
const files = (names: string[]) => names.map((name, i) => ({ name, blob: jpeg(i) }));
let dbSeq = 0;

/** A fresh "page": new store + controller over the same database (what a reload gives). */
function page(dbName: string, suggest?: (id: string, b: Blob) => Promise<Suggestion>) {
  const store = createAppStore();
  const ctl = createAnnotationController({ store, db: () => openAnnotationDb(dbName), suggest });
  return { store, ctl, a: () => store.getState().annotate, ann: () => store.getState().ann };
}

describe('annotation sessions in IndexedDB', () => {
  it('every tick, the position, the annotator and time per photo survive a reload', async () => {
    const name = `ann-test-${dbSeq++}`;
    const p1 = page(name);
    await p1.ctl.init();
    expect(p1.a().session).toBeNull();
    const { duplicates } = await p1.ctl.startSession('Dr. A', files(['x.jpg', 'y,1.jpg', 'x.jpg', 'z.jpg']));
    expect(duplicates).toEqual(['x.jpg']);
    expect(p1.a().photos.map((p) => p.name)).toEqual(['x.jpg', 'y,1.jpg', 'z.jpg']);
    const t0 = Date.now(); // open() started the clock at the real time
    p1.ann().toggle('ma', t0 + 1000);
    p1.ann().toggle('hex', t0 + 1500);
    p1.ann().go(1, t0 + 4000);
    p1.ann().toggle('healthy', t0 + 5000);
    p1.ann().setAnnotator('Dr. A. Smith');
    await p1.ctl.flush();
    // the blob comes back from IndexedDB
    const blob = await p1.ctl.photoBlob(p1.a().photos[0].id);
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(new Uint8Array([0xff, 0xd8, 0]));
    p1.ctl.stop();

    const p2 = page(name);
    await p2.ctl.init();
    const a = p2.a();
    expect(a.session?.annotator).toBe('Dr. A. Smith');
    expect(a.index).toBe(1);
    expect(a.records[a.photos[0].id].labels).toEqual({ ma: 1, hm: 0, hex: 1, cws: 0, healthy: 0 });
    expect(a.records[a.photos[1].id].labels).toEqual({ ma: 0, hm: 0, hex: 0, cws: 0, healthy: 1 });
    expect(a.records[a.photos[2].id].labels).toBeNull();
    expect(a.records[a.photos[0].id].ms).toBeGreaterThanOrEqual(4000);
    const csv = parseCsv(p2.ctl.exportCsv().csv).map((r) => r.fields);
    expect(csv.map((r) => r[0])).toEqual(['image', 'x.jpg', 'y,1.jpg']);
    expect(csv[1][7]).toBe('Dr. A. Smith');
    // back to the list, then delete: the set is gone from the device
    const pid = p2.a().photos[0].id;
    p2.ctl.closeSession();
    await p2.ctl.flush();
    expect(p2.a().sessions).toHaveLength(1);
    expect(p2.a().sessions[0]).toMatchObject({ count: 3, done: 2, annotator: 'Dr. A. Smith' });
    await p2.ctl.deleteSession(p2.a().sessions[0].id);
    expect(p2.a().sessions).toHaveLength(0);
    expect(await p2.ctl.photoBlob(pid)).toBeUndefined();
    p2.ctl.stop();
  });

  it('a set larger than one write batch keeps every photo, in order', async () => {
    const p = page(`ann-test-${dbSeq++}`);
    await p.ctl.init();
    const names = Array.from({ length: 37 }, (_, i) => `photo ${i}.jpg`);
    await p.ctl.startSession('C', files(names));
    expect(p.a().photos.map((x) => x.name)).toEqual(names);
    const last = await p.ctl.photoBlob(p.a().photos[36].id);
    expect(new Uint8Array(await last!.arrayBuffer())[2]).toBe(36);
    p.ctl.stop();
  });

  it('suggestions: hidden by default (model never asked); when shown they pre-fill, marked, and are not labels until accepted', async () => {
    const name = `ann-test-${dbSeq++}`;
    const suggestion: Suggestion = { positive: { ma: true, hm: false, hex: true, cws: false, healthy: false }, probabilities: { ma: 0.8, hm: 0.1, hex: 0.7, cws: 0.2, healthy: 0.1 }, model: 'demo@1' };
    const suggest = vi.fn(async () => suggestion);
    const p = page(name, suggest);
    await p.ctl.init();
    expect(p.a().prefs.showSuggestions).toBe(false);
    await p.ctl.startSession('B', files(['1.jpg', '2.jpg']));
    await p.ctl.flush();
    expect(suggest).not.toHaveBeenCalled();

    await p.ctl.setShowSuggestions(true);
    await vi.waitFor(() => expect(currentRecord(p.a())?.suggestion).toBeDefined());
    expect(suggest).toHaveBeenCalledTimes(1);
    const shown = shownVector(p.a(), currentRecord(p.a()));
    expect(shown).toEqual({ v: { ma: 1, hm: 0, hex: 1, cws: 0, healthy: 0 }, suggested: true });
    // not exported while it is only a suggestion
    expect(p.ctl.exportCsv().rows).toBe(0);
    p.ann().acceptSuggestion();
    expect(currentRecord(p.a())?.labels).toEqual({ ma: 1, hm: 0, hex: 1, cws: 0, healthy: 0 });
    // photo 2: ticking a box starts from the suggestion shown
    p.ann().go(1);
    await vi.waitFor(() => expect(currentRecord(p.a())?.suggestion).toBeDefined());
    p.ann().toggle('hex');
    expect(currentRecord(p.a())?.labels).toEqual({ ma: 1, hm: 0, hex: 0, cws: 0, healthy: 0 });
    const rows = parseCsv(p.ctl.exportCsv().csv).map((r) => r.fields);
    expect(rows.map((r) => r.slice(11))).toEqual([
      ['suggested', 'matches_suggestion'],
      ['ma hex', '1'],
      ['ma hex', '0'],
    ]);
    // the setting persists across a reload
    await p.ctl.flush();
    p.ctl.stop();
    const q = page(name, suggest);
    await q.ctl.init();
    expect(q.a().prefs.showSuggestions).toBe(true);
    q.ctl.stop();
  });
});

describe('annotate slice', () => {
  it('time per photo, clamped navigation, undo restores labels and goes back to the photo', () => {
    const store = createAppStore();
    const { ann } = store.getState();
    const a = () => store.getState().annotate;
    const photos = ['a', 'b', 'c'].map((n, i) => ({ id: `s/${i}`, sessionId: 's', order: i, name: `${n}.jpg` }));
    ann.open({ id: 's', title: 'a.jpg', annotator: 'X', createdAt: 0, updatedAt: 0, count: 3, index: 7 }, photos, photos.map((p) => ({ id: p.id, sessionId: 's', image: p.name, labels: null, ms: 0 })), 0);
    expect(a().index).toBe(2); // stored index clamped
    ann.goTo(0, 0);
    ann.toggle('cws', 1000);
    ann.go(-1, 3000); // already first: no move, clock keeps running
    expect(a().index).toBe(0);
    ann.go(1, 5000);
    expect(a().records['s/0'].ms).toBe(5000);
    ann.pauseClock(6000);
    ann.resumeClock(60_000); // away for a minute: not counted
    ann.go(1, 61_000);
    expect(a().records['s/1'].ms).toBe(2000);
    ann.toggle('healthy', 62_000);
    ann.undo(63_000);
    expect(a().records['s/2'].labels).toBeNull();
    ann.undo(64_000);
    expect(a().index).toBe(0);
    expect(a().records['s/0'].labels).toBeNull();
    expect(a().records['s/0'].firstAt).toBeUndefined();
    ann.undo(65_000); // nothing left
    expect(a().undo).toHaveLength(0);
    ann.toggleUngradable(66_000);
    expect(a().records['s/0'].ungradable).toBe(true);
    ann.undo(67_000);
    expect(a().records['s/0'].ungradable).toBeFalsy();
  });
});
