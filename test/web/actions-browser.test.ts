/**
 * Actions from the pages in real Chromium (docs/behaviour.md §7 "Actions"): an
 * author verifies, the engineer deploys (a non-engineer sees no Deploy), an
 * admin derails through the confirm page and rolls production back from an
 * earlier train's page. With JavaScript the reply shows in place without a
 * reload; the confirm page works as a plain form. axe-core checks the confirm
 * page. One browser for the file, a fresh context per person.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expectAccessible, launchBrowser, signInWithForm } from '../support/browser.js';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

let browser: Browser;
let p: PagesApp;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [browser, p] = await Promise.all([launchBrowser(), startPagesApp()]);
}, 90_000);
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await p?.t.stop();
});

async function personPage(email: string, opts: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', ...opts });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  await signInWithForm(page, p.base, email);
  return page;
}

/** A marker a reload would wipe out. */
const mark = (page: Page) =>
  page.evaluate(() => {
    (window as unknown as { stayed: boolean }).stayed = true;
  });
const stayed = (page: Page) => page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed === true);
const outcome = (page: Page) => page.getByTestId('outcome');

describe('actions from the pages, in Chromium', () => {
  test('verify and deploy in place; a non-engineer sees no Deploy; derail after a confirmation; roll back from an earlier train', async () => {
    await p.push('web', [ALICE, BOB], 'First change');
    await p.trainIs('web', 1, 'verifying');
    expect((await p.t.api(ADMIN, `engineer ${BOB}`, 'web')).ok || (await p.t.status('web')).train.engineer === BOB).toBe(true);

    // Alice, an author but not the engineer: Verify, and no Deploy.
    const alice = await personPage(ALICE);
    await alice.goto(`${p.base}/lines/web/trains/1`);
    await alice.waitForFunction(() => document.documentElement.dataset.live === 'connected');
    await mark(alice);
    expect(await alice.getByRole('button', { name: 'Deploy to production' }).count()).toBe(0);
    await alice.getByRole('button', { name: 'Verify my changes' }).click();
    await expect.poll(() => outcome(alice).textContent()).toBe('Verified your changes on train #1.');
    // The page refreshed itself in place: the button is gone, "Found a problem" took its place.
    await alice.getByRole('button', { name: 'Found a problem' }).waitFor();
    expect(await alice.getByRole('button', { name: 'Verify my changes' }).count()).toBe(0);
    expect(await stayed(alice)).toBe(true);

    // Bob, the engineer: verify, then Deploy appears (the train became deployable) and deploys.
    const bob = await personPage(BOB);
    await bob.goto(`${p.base}/lines/web/trains/1`);
    await mark(bob);
    await bob.getByRole('button', { name: 'Verify my changes' }).click();
    await expect.poll(() => outcome(bob).textContent()).toBe('Verified your changes on train #1.');
    await bob.getByRole('button', { name: 'Deploy to production' }).click();
    await expect.poll(() => outcome(bob).textContent()).toBe('Deploy of train #1 started.');
    await bob.locator('h1 .state-deployed').waitFor({ timeout: 30_000 });
    expect(await stayed(bob)).toBe(true);
    // Alice never saw Deploy; her page followed the deploy live.
    await alice.locator('h1 .state-deployed').waitFor({ timeout: 30_000 });
    expect(await alice.getByRole('button', { name: 'Deploy to production' }).count()).toBe(0);

    // An admin derails train #2 with a reason: what will happen first, in Slack's words, in a dialog.
    await p.push('web', [ALICE], 'Second change');
    await p.trainIs('web', 2, 'verifying');
    const admin = await personPage(ADMIN);
    await admin.goto(`${p.base}/lines/web/trains/2`);
    await expectAccessible(admin, 'a train page with its actions');
    await mark(admin);
    await admin.getByLabel('Why derail (optional)').fill('flaky <tests>');
    await admin.getByRole('button', { name: 'Derail…' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Derail train #2' });
    await dialog.waitFor();
    expect(await dialog.getByTestId('confirm-lines').textContent()).toContain('Reason: flaky <tests>');
    await expectAccessible(admin, 'the confirmation dialog');
    // Cancel leaves everything as it is.
    await dialog.getByRole('link', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await p.t.status('web')).train.state).toBe('verifying');
    await admin.getByRole('button', { name: 'Derail…' }).click();
    await admin.getByRole('dialog', { name: 'Derail train #2' }).getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => outcome(admin).textContent()).toContain('Train #2 derailed');
    await admin.locator('h1 .state-derailed').waitFor();
    expect(await admin.getByRole('dialog').count()).toBe(0);
    expect(await stayed(admin)).toBe(true);

    // Train #3 took the commit (schedule mode, inside auto-time); it deploys, then production goes back to #1.
    await p.trainIs('web', 3, 'verifying');
    expect((await p.t.api(ALICE, 'verify 3', 'web')).ok).toBe(true);
    expect((await p.t.api(ADMIN, 'deploy', 'web')).ok).toBe(true);
    await p.t.until('train #3 deployed', async () => (await p.t.status('web')).lastDeployed?.number === 3);
    await admin.goto(`${p.base}/lines/web/trains/1`);
    await admin.getByRole('button', { name: 'Roll back to train #1…' }).waitFor();
    // The confirm page itself (what a browser without JavaScript, or without <dialog>, shows): roll back from it.
    await admin.goto(`${p.base}/lines/web/confirm?command=rollback+1&back=/lines/web/trains/1`);
    expect(await admin.locator('h1').textContent()).toBe('Roll back to train #1');
    expect(await admin.getByTestId('confirm-lines').textContent()).toContain('Production will be rolled back to train #1');
    await expectAccessible(admin, 'the confirm page');
    await admin.getByTestId('confirm-button').click();
    await admin.waitForURL(`${p.base}/lines/web/trains/1`);
    await expect.poll(() => outcome(admin).textContent()).toBe('Rolling back to train #1.');
    await p.t.until('production runs #1 again', async () => (await p.t.status('web')).production?.number === 1);
    await admin.goto(`${p.base}/lines/web`);
    await admin.getByTestId('line-actions').waitFor();
    await expectAccessible(admin, 'a line page with its actions');

    // Alice reverts her own commit of train #1 from its page: one button among her commits' (a form of several buttons).
    const first = (await p.t.app.engine.read('web', { extraTrains: [1] })).state.trains.find((t) => t.number === 1)!;
    const hers = first.commits.find((c) => c.authorEmail === ALICE)!.sha;
    await alice.goto(`${p.base}/lines/web/trains/1`);
    expect(await alice.getByRole('button', { name: `Revert ${first.commits.find((c) => c.authorEmail === BOB)!.sha.slice(0, 8)}` }).count()).toBe(0);
    await alice.getByRole('button', { name: `Revert ${hers.slice(0, 8)}` }).click();
    await expect.poll(() => outcome(alice).textContent()).toContain(`Reverting ${hers.slice(0, 7)}`);
  }, 180_000);

  test("on a phone the pages with an admin's buttons and the confirmation do not scroll sideways", async () => {
    await p.push('api', [ALICE], `A very long commit subject ${'that goes on and on '.repeat(8)}`);
    const context = await browser.newContext({ viewport: { width: 375, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await signInWithForm(page, p.base, ADMIN);
    for (const path of ['/lines/api', '/lines/web/trains/1', '/lines/web/confirm?command=emergency&args=down']) {
      await page.goto(`${p.base}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      // What sticks out (a scrolling table's content does not count), to say why in a failure.
      const wide = await page.evaluate(() =>
        Array.from(document.querySelectorAll('body *'))
          .filter((e) => !e.closest('.table-wrap') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .slice(0, 5)
          .map((e) => `${e.tagName}.${e.className}`),
      );
      expect(overflow, `${path} scrolls sideways by ${overflow} px: ${wide.join(', ')}`).toBeLessThanOrEqual(0);
    }
  }, 60_000);

  test('without JavaScript: the form posts, and the page shows the reply', async () => {
    const page = await personPage(ADMIN, { javaScriptEnabled: false });
    await page.goto(`${p.base}/lines/api`);
    await page.getByLabel('Why (optional)').first().fill('release week');
    await page.getByRole('button', { name: /manual/ }).click();
    await page.waitForURL(`${p.base}/lines/api`);
    expect(await outcome(page).textContent()).toContain('The line is now in manual mode (release week)');
    expect((await p.t.status('api')).manualReason).toBe('release week');
  }, 60_000);
});
