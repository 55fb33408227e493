/**
 * The insights page in real Chromium: a train deployed for real on `web`, a
 * month of history on `api`; the charts are images with names, the numbers are
 * in tables, axe finds nothing serious in light or dark, nothing scrolls
 * sideways at 375 px. One browser for the file.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { expectAccessible, launchBrowser, signInWithForm } from '../support/browser.js';
import { seedMonth } from '../support/insights-history.js';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';
import { makeTempDir } from '../support/temp-dirs.js';

let browser: Browser;
let p: PagesApp;
let context: BrowserContext | undefined;
/** docs/screenshots with UPDATE_SCREENSHOTS=1 (the README shows it), else a temporary folder. */
let shots: string;

beforeAll(async () => {
  [browser, p] = await Promise.all([launchBrowser(), startPagesApp()]);
  await p.push('web', ['alice@example.com'], 'First change');
  await p.trainIs('web', 1, 'verifying');
  expect((await p.t.api('alice@example.com', 'verify', 'web')).ok).toBe(true);
  expect((await p.t.api(ADMIN, 'deploy', 'web')).ok).toBe(true);
  await p.trainIs('web', 1, 'deployed');
  await seedMonth(p.t.db.pool, 'api', new Date());
  shots = process.env.UPDATE_SCREENSHOTS ? path.resolve('docs/screenshots') : await makeTempDir('conductor-shots-');
  mkdirSync(shots, { recursive: true });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await p?.t.stop();
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});

describe('the insights page in Chromium', () => {
  test('from the nav: the four keys, charts as named images, the numbers in tables; the period and line links work', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await signInWithForm(page, p.base, 'ada@example.com');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Insights' }).click();
    await page.waitForURL(`${p.base}/insights`);
    expect(await page.locator('[data-key="deployment-frequency"] .figure').textContent()).toBe('0.03 a day');
    await page.getByRole('navigation', { name: 'Line' }).getByRole('link', { name: 'api' }).click();
    await page.waitForURL(`${p.base}/insights?line=api`);
    // A month at 5 trains a day, 1 in 12 derailed: 138 deploys.
    expect(await page.locator('[data-key="deployment-frequency"] dd').nth(1).textContent()).toMatch(/^13[78] production deploys/);
    const charts = page.getByRole('img');
    expect(await charts.count()).toBe(4);
    expect(await page.getByRole('img', { name: /Production deploys per day/ }).count()).toBe(1);
    expect(await page.getByRole('img', { name: /Lead time for changes per day, p50 and p90/ }).count()).toBe(1);
    expect(await page.getByRole('region', { name: 'Failed deploys' }).getByRole('row').count()).toBeGreaterThan(10);
    expect(await page.getByRole('region', { name: 'Derails by reason' }).textContent()).toContain('flaky tests');
    await expectAccessible(page, 'the insights page');
    await page.screenshot({ path: path.join(shots, 'insights.png'), fullPage: true });
    await page.getByRole('navigation', { name: 'Period' }).getByRole('link', { name: '90 days' }).click();
    await page.waitForURL(`${p.base}/insights?line=api&days=90`);
    expect(await page.getByRole('img', { name: /per week/ }).count()).toBe(2);
  });

  test('readable on a phone in light and dark: no sideways scroll at 375 px, axe finds nothing serious', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      context = await browser.newContext({ viewport: { width: 375, height: 800 }, colorScheme });
      const page = await context.newPage();
      await signInWithForm(page, p.base, 'lin@example.com');
      for (const target of ['/insights?line=api', '/insights?line=web&days=7', '/insights?line=api&days=90']) {
        await page.goto(`${p.base}${target}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${target} scrolls sideways by ${overflow}px (${colorScheme})`).toBeLessThanOrEqual(0);
        await expectAccessible(page, `${target} in ${colorScheme} mode`);
      }
      if (colorScheme === 'dark') {
        await page.goto(`${p.base}/insights?line=api`);
        await page.screenshot({ path: path.join(shots, 'insights-phone-dark.png') });
        await page.locator('#steps').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(shots, 'insights-phone-dark-steps.png') });
      }
      await context.close();
      context = undefined;
    }
  });
});
