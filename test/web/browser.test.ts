/**
 * The Web App in real Chromium, as a person uses it: sign in with the local
 * form, watch the overview change after a `git push` without reloading, open
 * the train and follow its build, search its SHA, read the history. A hostile
 * commit message stays text. axe-core checks every page. One browser for the
 * file, a fresh context per test.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { expectAccessible, launchBrowser, signInWithForm } from '../support/browser.js';
import { makeTempDir } from '../support/temp-dirs.js';

let browser: Browser;
let app: RunningApp;
let base: string;
let context: BrowserContext;
/** Screenshots go to docs/ with UPDATE_SCREENSHOTS=1 (the README shows them), else to a temporary folder. */
let shots: string;

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startTestApp()]);
  base = app.app.url;
  shots = process.env.UPDATE_SCREENSHOTS ? path.resolve('docs/screenshots') : await makeTempDir('conductor-shots-');
  mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});
afterEach(async () => {
  await context?.close();
});

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  context = await browser.newContext({ viewport, colorScheme: 'light' });
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  return page;
}

const demoRepo = () => path.join(app.dir, 'data', 'demo.git');

describe('the Web App in Chromium', () => {
  test('sign in, then the overview follows a push live, without a reload', async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    expect(page.url()).toContain('/auth/login');
    await expectAccessible(page, 'the sign-in page');
    await signInWithForm(page, base, 'ada@example.com');
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe('ada@example.com');
    await expectAccessible(page, 'the overview');
    await page.waitForFunction(() => document.documentElement.dataset.live === 'connected');
    // A marker that a reload would wipe out.
    await page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
    });

    const dev = await app.developer(demoRepo());
    await dev.commit('ada@example.com', 'Add the search box to the dashboard');
    await dev.push();
    await page
      .getByRole('link', { name: '#1', exact: true })
      .first()
      .waitFor({ timeout: 20_000 })
      .catch(async (err) => {
        throw new Error(`${err}\n${await page.locator('main').textContent()}`);
      });
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    expect(Number(await page.evaluate(() => document.documentElement.dataset.refreshes))).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(shots, 'overview.png') });
  });

  test('a train page, the search and the history; a hostile commit message stays text', async () => {
    const page = await newPage();
    await signInWithForm(page, base, 'grace@example.com');
    const dev = await app.developer(demoRepo());
    const hostile = '<img src=x onerror="window.pwned=1"> Fix the <b>login</b>';
    const sha = await dev.commit('grace@example.com', hostile);
    await dev.push();
    await app.until('the commit is seen', async () => {
      const s = await app.status('demo');
      return s.platform.some((c: { sha: string }) => c.sha === sha) || s.train?.commits.some((c: { sha: string }) => c.sha === sha);
    });

    // Search the SHA: one exact match goes straight to where it is (its train, or the line while it waits).
    await page.getByLabel('Search commits').fill(sha);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/lines\/demo(\/trains\/\d+)?$/);
    await expect.poll(() => page.getByText(hostile).count()).toBeGreaterThan(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('main b').count()).toBe(0);
    await expectAccessible(page, 'the page a SHA leads to');

    // Train #1 (the first test's push): its timeline and its build's output.
    await page.goto(`${base}/lines/demo/trains/1`);
    await expect.poll(() => page.locator('main').textContent()).toContain('building');
    await expectAccessible(page, 'the train page');
    await page.screenshot({ path: path.join(shots, 'train.png'), fullPage: true });

    // A short SHA prefix lists the commit with where it is.
    await page.goto(`${base}/search?q=${sha.slice(0, 6)}`);
    await expect.poll(() => page.getByText(hostile).count()).toBeGreaterThan(0);
    await expectAccessible(page, 'the search page');

    await page.goto(`${base}/history`);
    await expect.poll(() => page.locator('main').textContent()).toMatch(/train #\d+/i);
    // A table's header spans its rows (a layout rule meant for another element once squeezed it).
    const widths = await page.evaluate(() =>
      Array.from(document.querySelectorAll('main table')).map((t) => [
        t.querySelector('thead tr')?.getBoundingClientRect().width ?? 0,
        t.querySelector('tbody tr')?.getBoundingClientRect().width ?? 0,
      ]),
    );
    expect(widths.length).toBeGreaterThan(0);
    for (const [head, row] of widths) expect(Math.abs(head! - row!)).toBeLessThanOrEqual(1);
    await expectAccessible(page, 'the history');

    await page.goto(`${base}/me`);
    await expect.poll(() => page.locator('main').textContent()).toContain(sha.slice(0, 7));
    await expectAccessible(page, 'my page');

    await page.goto(`${base}/lines/demo`);
    await expectAccessible(page, 'the line page');
    await page.screenshot({ path: path.join(shots, 'line.png'), fullPage: true });
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });

  test('readable on a phone: no page scrolls sideways at 375 px, in light and dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      context = await browser.newContext({ viewport: { width: 375, height: 800 }, colorScheme });
      const page = await context.newPage();
      await signInWithForm(page, base, 'lin@example.com');
      for (const p of ['/', '/lines/demo', '/history', '/me', '/search?q=login']) {
        await page.goto(`${base}${p}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${p} scrolls sideways by ${overflow}px (${colorScheme})`).toBeLessThanOrEqual(0);
        if (colorScheme === 'dark') await expectAccessible(page, `${p} in dark mode`);
      }
      if (colorScheme === 'dark') {
        await page.goto(`${base}/`);
        await page.screenshot({ path: path.join(shots, 'overview-phone-dark.png') });
      }
      await context.close();
    }
  });
});
