/**
 * The schedule editor in real Chromium, as an admin uses it: from the line
 * page to the editor, set auto-time with a window across midnight through the
 * form, add and remove a freeze date, see each outcome. axe-core finds no
 * serious or critical violation; no sideways scroll at 375 px. One browser for
 * the file, a fresh context per test.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { expectAccessible, launchBrowser, signInWithForm } from '../support/browser.js';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';
import { makeTempDir } from '../support/temp-dirs.js';

let browser: Browser;
let app: PagesApp;
let context: BrowserContext;
/** Screenshots go to docs/ with UPDATE_SCREENSHOTS=1 (the README shows one), else to a temporary folder (SHOTS_DIR to keep them). */
let shots: string;

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startPagesApp()]);
  shots = process.env.UPDATE_SCREENSHOTS ? path.resolve('docs/screenshots') : (process.env.SHOTS_DIR ?? (await makeTempDir('conductor-shots-')));
  mkdirSync(shots, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.t.stop();
});
afterEach(async () => {
  await context?.close();
});

async function newPage(viewport = { width: 1280, height: 900 }, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  return page;
}

const outcome = (page: Page) => page.getByTestId('schedule-outcome').textContent();

describe('the schedule editor in Chromium', () => {
  test('an admin edits the week grid and the freeze dates through the forms and sees the result', async () => {
    const page = await newPage();
    await signInWithForm(page, app.base, ADMIN);
    await page.goto(`${app.base}/lines/api`);
    await page.getByRole('link', { name: 'Freeze calendar and schedule editor' }).click();
    await page.waitForURL(`${app.base}/lines/api/schedule`);
    await expectAccessible(page, 'the schedule editor');

    // The line has the default auto-time (every day, all day): remove it with each row's Remove button, then write
    // the new windows, one of them in a row added with "Add a window".
    for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']) {
      expect(await page.getByLabel(`${day}, window 1, end`).inputValue()).toBe('24:00');
      await page.getByRole('button', { name: `Remove ${day}, window 1` }).click();
      expect(await page.getByLabel(`${day}, window 1, end`).isVisible()).toBe(false);
    }
    await page.getByLabel('Monday, window 2, start').fill('09:00');
    await page.getByLabel('Monday, window 2, end').fill('12:00');
    await page.getByRole('button', { name: 'Add a window on Monday' }).click();
    expect(await page.getByLabel('Monday, window 4, start').evaluate((e) => e === document.activeElement)).toBe(true);
    await page.getByLabel('Monday, window 4, start').fill('13:00');
    await page.getByLabel('Monday, window 4, end').fill('17:00');
    await page.getByLabel('Friday, window 2, start').fill('22:00');
    await page.getByLabel('Friday, window 2, end').fill('02:00');
    await page.getByLabel('Sunday, window 2, start').fill('20:00');
    await page.getByLabel('Sunday, window 2, end').fill('24:00');
    await page.getByRole('button', { name: 'Save auto-time' }).click();
    await expect.poll(() => outcome(page)).toContain('Auto-time is now');
    // The grid after the redirect: Friday's window runs into Saturday; the form shows it again with two empty rows.
    const hour = (day: string, h: number) => page.locator(`[data-testid="week-grid"] tr[data-day="${day}"] td[data-hour="${h}"]`).getAttribute('class');
    expect(await hour('fri', 23)).toBe('hour hour-in');
    expect(await hour('sat', 1)).toBe('hour hour-in');
    expect(await hour('sat', 2)).toBe('hour hour-out');
    expect(await hour('sun', 23)).toBe('hour hour-in');
    expect(await hour('mon', 8)).toBe('hour hour-out');
    expect(await hour('mon', 12)).toBe('hour hour-out');
    expect(await hour('mon', 13)).toBe('hour hour-in');
    expect(await page.getByLabel('Monday, window 2, start').inputValue()).toBe('13:00');
    expect(await page.getByLabel('Friday, window 1, end').inputValue()).toBe('02:00');
    expect(await page.getByLabel('Sunday, window 1, end').inputValue()).toBe('24:00');
    expect(await page.getByLabel('Friday, window 3, start').count()).toBe(1);
    expect((await app.t.api(ADMIN, 'autotime', 'api')).text).toMatch(/fri 22:00.02:00/);
    await expectAccessible(page, 'the schedule editor with an outcome');

    // A freeze date soon (the line's zone is UTC): in this month's calendar, or the next one's at a month's end.
    const soon = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Add a freeze date').fill(soon);
    await page.getByRole('button', { name: 'Add freeze date' }).click();
    await expect.poll(() => outcome(page)).toContain(`${soon} is now a freeze date`);
    await page.goto(`${app.base}/lines/api/schedule?month=${soon.slice(0, 7)}`);
    expect(await page.locator(`td[data-date="${soon}"]`).getAttribute('class')).toMatch(/^freeze/);
    await page.screenshot({ path: path.join(shots, 'schedule.png'), fullPage: true });

    await page.getByLabel('Add a freeze date').fill('2099-12-24');
    await page.getByRole('button', { name: 'Add freeze date' }).click();
    await expect.poll(() => outcome(page)).toContain('2099-12-24 is now a freeze date');
    expect(await page.getByTestId('upcoming').textContent()).toContain('2099-12-24');
    // The calendar pages forward to the month, where the date is marked.
    const caption = () => page.locator('[data-testid="calendar"] caption').textContent();
    const first = await caption();
    await page.getByRole('navigation', { name: 'Months' }).getByRole('link').last().click();
    await expect.poll(caption).not.toBe(first);
    await page.goto(`${app.base}/lines/api/schedule?month=2099-12`);
    expect(await page.locator('td[data-date="2099-12-24"]').getAttribute('class')).toBe('freeze');

    await page.getByRole('button', { name: 'Remove 2099-12-24' }).click();
    await expect.poll(() => outcome(page)).toContain('2099-12-24 is no longer a freeze date');
    expect(await page.locator('td[data-date="2099-12-24"]').getAttribute('class')).toBeNull();
    expect((await app.t.api(ADMIN, 'freeze list', 'api')).text).toBe(`Freeze dates: ${soon}.`);
  });

  test('without JavaScript: the empty rows and a plain form POST', async () => {
    context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signInWithForm(page, app.base, ADMIN);
    await page.goto(`${app.base}/lines/web/schedule`);
    expect(await page.getByRole('button', { name: /Add a window/ }).count()).toBe(0);
    await page.getByLabel('Tuesday, window 1, start').fill('');
    await page.getByLabel('Tuesday, window 1, end').fill('');
    await page.getByLabel('Tuesday, window 2, start').fill('23:00');
    await page.getByLabel('Tuesday, window 2, end').fill('01:30');
    await page.getByRole('button', { name: 'Save auto-time' }).click();
    await expect.poll(() => outcome(page)).toContain('Auto-time is now');
    const hour = (h: number) => page.locator(`[data-testid="week-grid"] tr[data-day="tue"] td[data-hour="${h}"]`).getAttribute('class');
    expect(await hour(12)).toBe('hour hour-out');
    expect(await hour(23)).toBe('hour hour-in');
    expect((await app.t.api(ADMIN, 'autotime', 'web')).text).toMatch(/tue 23:00.01:30/);
  });

  test('readable on a phone: no sideways scroll at 375 px, light and dark; accessible in dark', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await newPage({ width: 375, height: 800 }, scheme);
      await signInWithForm(page, app.base, ADMIN);
      await page.goto(`${app.base}/lines/api/schedule`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `the schedule editor scrolls sideways by ${overflow}px (${scheme})`).toBeLessThanOrEqual(0);
      if (scheme === 'dark') {
        await expectAccessible(page, 'the schedule editor in dark mode');
        // Both outcome colours, on a phone: accepted, then refused (the same date again).
        for (const [i, said] of ['is now a freeze date', 'is already a freeze date'].entries()) {
          await page.getByLabel('Add a freeze date').fill('2097-01-01');
          await page.getByRole('button', { name: 'Add freeze date' }).click();
          await expect.poll(() => outcome(page)).toContain(said);
          expect(await page.getByTestId('schedule-outcome').getAttribute('class')).toContain(i === 0 ? 'schedule-outcome-ok' : 'schedule-outcome-refused');
          await expectAccessible(page, `the schedule editor in dark mode with an outcome (${said})`);
          expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
        }
      }
      if (process.env.SHOTS_DIR) await page.screenshot({ path: path.join(process.env.SHOTS_DIR, `schedule-phone-${scheme}.png`), fullPage: true });
      await context.close();
    }
  });
});
