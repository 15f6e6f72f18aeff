import { expect, test } from '@playwright/test';

// The analyse page (and demo mode) start the analysis worker and the model download before React's first render;
// pages that may never need the model do not. Only the worker fetches the weight shards, so a shard request tells.
// Service workers are blocked: their precache would fetch the shards too.
test.use({ serviceWorkers: 'block' });

const SHARD = /\/models\/demo\/group1-shard\d+of\d+\.bin$/;

test('the model starts loading at once on the analyse page and in demo mode, not on the records page', async ({ page }) => {
  const shards: string[] = [];
  page.on('request', (r) => {
    if (SHARD.test(new URL(r.url()).pathname)) shards.push(r.url());
  });
  await page.goto('/#/records');
  await expect(page.getByRole('link', { name: 'Records' })).toHaveAttribute('aria-current', 'page');
  await page.waitForTimeout(3000);
  expect(shards).toEqual([]);

  for (const route of ['/', '/#/demo']) {
    shards.length = 0;
    await page.goto('about:blank');
    const shard = page.waitForRequest((r) => SHARD.test(new URL(r.url()).pathname), { timeout: 30_000 });
    await page.goto(route);
    await shard; // nothing clicked: the page asked for the model by itself
  }
});
