/**
 * The analysis worker's photo-checks client: answers from the helper worker when it works, and
 * the same answers computed in-thread whenever the helper is missing, fails or dies, so a
 * broken helper can slow an analysis down but never fail it or leave it waiting.
 */
import { describe, expect, it } from 'vitest';
import { syntheticFundus } from '../core/analyze.test-fixtures';
import { isFundusLensError } from '../core/errors';
import { photoChecks } from '../core/photo-checks';
import type { RgbImage } from '../core/types';
import { createPhotoChecksClient, type PhotoChecksEndpoint, type PhotoChecksReply, type PhotoChecksRequest } from './photo-checks-client';

type Mode = 'work' | 'error-reply' | 'silent' | 'throw-on-post';

/** An in-process stand-in for the helper worker (structured clone, async replies, error events). */
class FakeHelper extends EventTarget implements PhotoChecksEndpoint {
  received: PhotoChecksRequest[] = [];
  terminated = false;
  constructor(public mode: Mode) {
    super();
  }
  postMessage(message: PhotoChecksRequest): void {
    if (this.mode === 'throw-on-post') throw new Error('DataCloneError');
    const copy = structuredClone(message);
    this.received.push(copy);
    if (this.mode === 'silent') return;
    setTimeout(() => {
      let reply: PhotoChecksReply;
      if (this.mode === 'error-reply') reply = { id: copy.id, error: 'out of memory' };
      else reply = { id: copy.id, checks: { ...photoChecks(copy.image), ms: -1 } }; // ms -1 marks "from the helper"
      this.dispatchEvent(new MessageEvent('message', { data: reply }));
    }, 1);
  }
  /** the worker crashed */
  crash(): void {
    this.dispatchEvent(new Event('error'));
  }
  terminate(): void {
    this.terminated = true;
  }
}

const withoutMs = (c: { ms: number }) => ({ ...c, ms: 0 });

describe('photo-checks client', () => {
  const photo = syntheticFundus(240, 180);
  const expected = photoChecks(photo);

  it('sends a copy of the pixels to the helper and returns its answer', async () => {
    const helper = new FakeHelper('work');
    const client = createPhotoChecksClient(() => helper);
    expect(client.available()).toBe(true);
    const c = await client.check(photo);
    expect(c.ms).toBe(-1); // the helper's answer, not a local one
    expect(withoutMs(c)).toEqual(withoutMs(expected));
    expect(helper.received).toHaveLength(1);
    expect(helper.received[0].image.data).not.toBe(photo.data);
    expect(Array.from(helper.received[0].image.data)).toEqual(Array.from(photo.data));
  });

  it('several photos in flight get their own answers', async () => {
    const other = syntheticFundus(300, 200);
    const client = createPhotoChecksClient(() => new FakeHelper('work'));
    const [a, b] = await Promise.all([client.check(photo), client.check(other)]);
    expect(withoutMs(a)).toEqual(withoutMs(expected));
    expect(withoutMs(b)).toEqual(withoutMs(photoChecks(other)));
  });

  it('an error answer is computed again here: same checks for a good photo, core’s own error for bad pixels', async () => {
    const client = createPhotoChecksClient(() => new FakeHelper('error-reply'));
    const c = await client.check(photo);
    expect(c.ms).toBeGreaterThan(0);
    expect(withoutMs(c)).toEqual(withoutMs(expected));
    const bad: RgbImage = { width: 10, height: 10, channels: 3, data: new Uint8Array(7) };
    const err = await client.check(bad).catch((e: unknown) => e);
    expect(isFundusLensError(err)).toBe(true);
  });

  it('a helper that dies: what was waiting is computed here, and so is everything after', async () => {
    const helper = new FakeHelper('silent');
    const client = createPhotoChecksClient(() => helper);
    const waiting = client.check(photo);
    helper.crash();
    expect(withoutMs(await waiting)).toEqual(withoutMs(expected));
    expect(helper.terminated).toBe(true);
    expect(client.available()).toBe(false);
    const later = await client.check(photo);
    expect(withoutMs(later)).toEqual(withoutMs(expected));
    expect(helper.received).toHaveLength(1);
  });

  it('no helper on this device (none, or it cannot be built, or cannot take the message): checks run here', async () => {
    for (const create of [() => null, () => { throw new Error('Worker is not defined'); }, () => new FakeHelper('throw-on-post')]) {
      const client = createPhotoChecksClient(create);
      const c = await client.check(photo);
      expect(withoutMs(c)).toEqual(withoutMs(expected));
      expect(client.available()).toBe(false);
    }
  });
});
