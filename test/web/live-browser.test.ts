/**
 * The whole loop in a real browser (headless Chromium through playwright-core):
 * the overview is open, someone changes the line through the command API, and
 * the page shows it within 1 s, without reloading.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { signIn } from '../support/web-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('live updates in a browser', () => {
  let app: RunningApp;
  let browser: Browser;
  beforeAll(async () => {
    app = await startTestApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('the overview shows a change made elsewhere within 1 s, with no reload', async () => {
    const me = await signIn(app.app.url, 'alice@example.com');
    const [name, value] = me.cookie.split('=') as [string, string];
    const context = await browser.newContext();
    await context.addCookies([{ name, value, url: app.app.url }]);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The browser asks for /favicon.ico by itself; any other failed request is an error of the page.
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`${r.status()} ${r.url()}`));
    await page.goto(`${app.app.url}/`);
    await page.waitForFunction(() => document.documentElement.dataset.live === 'connected', undefined, { timeout: 5_000 });
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42)); // gone if the page reloads
    const reason = 'release <img src=x onerror=alert(1)> freeze';
    const t0 = Date.now();
    expect((await app.api('admin@example.com', `mode manual ${reason}`)).ok).toBe(true);
    await page.getByText(`manual mode: ${reason}`).waitFor({ timeout: 1_000 });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(await page.locator('img').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
