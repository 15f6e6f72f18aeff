import { afterEach, describe, expect, it } from 'vitest';
import { yieldToEventLoop } from './yield';

const realm = globalThis as unknown as { MessageChannel?: unknown };
const channel = realm.MessageChannel;
afterEach(() => {
  realm.MessageChannel = channel;
});

/** Open MessagePorts of this process (Node's active handles). */
const openPorts = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

describe('yieldToEventLoop', () => {
  it('resolves in a later macrotask, after the microtasks queued meanwhile, and leaves no port open', async () => {
    const order: string[] = [];
    const before = openPorts();
    const p = yieldToEventLoop().then(() => order.push('yield'));
    void Promise.resolve().then(() => Promise.resolve()).then(() => order.push('microtask'));
    expect(order).toEqual([]);
    await p;
    expect(order).toEqual(['microtask', 'yield']);
    // no port left open by the yields (an open one would keep a CLI process from exiting)
    for (let i = 0; i < 5; i++) await yieldToEventLoop();
    await new Promise((r) => setTimeout(r, 30)); // a closed port's handle goes in a later turn
    expect(openPorts()).toBeLessThanOrEqual(before);
  });

  it('is cheaper than setTimeout(0) per call, and falls back to it where there is no MessageChannel', async () => {
    const time = async (n: number) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await yieldToEventLoop();
      return performance.now() - t0;
    };
    const withChannel = await time(20);
    realm.MessageChannel = undefined;
    const withTimer = await time(20);
    // Node's timers wait ≥ 1 ms: 20 of them cannot take under 20 ms, so the fallback ran
    expect(withTimer).toBeGreaterThanOrEqual(19);
    expect(withChannel).toBeLessThan(withTimer);
  });
});
