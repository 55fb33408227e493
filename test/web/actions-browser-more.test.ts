/**
 * More actions from the pages in real Chromium (docs/behaviour.md §7 "Actions"),
 * each from both sides: a person the rule accepts clicks the button and sees the
 * reply in the page while the engine's state changes; a person it refuses is not
 * shown the button, and a POST forged from their own signed-in browser (with
 * their valid CSRF token, read from the page) gets the words Slack gives them
 * and changes nothing. Covered: claim and give the engineer role, block and
 * unblock, found a problem (reopen), extend and emergency reset through their
 * confirmation, mode manual with a reason and back to schedule, start a train.
 * Then the two forgeries a browser can make: a fetch without the token, and a
 * form on another origin (a second server on 127.0.0.1) posting with the
 * victim's cookies: both 403, nothing changed. One browser for the file, a
 * fresh context per person.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, signInWithForm } from '../support/browser.js';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const EVE = 'eve@example.com';

let browser: Browser;
let p: PagesApp;
const contexts: BrowserContext[] = [];
const pages = new Map<string, Page>();
let attacker: Server | undefined;

beforeAll(async () => {
  [browser, p] = await Promise.all([launchBrowser(), startPagesApp()]);
  await p.push('web', [ALICE, BOB], 'First change');
  await p.trainIs('web', 1, 'verifying');
}, 90_000);
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await new Promise((r) => (attacker ? attacker.close(r) : r(undefined)));
  await p?.t.stop();
});

/** One signed-in context per person, reused across the file's steps. */
async function person(email: string): Promise<Page> {
  const known = pages.get(email);
  if (known) return known;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  await signInWithForm(page, p.base, email);
  pages.set(email, page);
  return page;
}

async function open(email: string, path: string): Promise<Page> {
  const page = await person(email);
  await page.goto(`${p.base}${path}`);
  return page;
}

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
const outcome = (page: Page) => page.getByTestId('outcome');
/** The reply shown in place, once it is there. */
async function replyShown(page: Page, ok: boolean): Promise<string> {
  const p = outcome(page).locator('p[data-ok]');
  await p.waitFor();
  const text = (await p.textContent()) ?? '';
  expect(await p.getAttribute('data-ok'), text).toBe(String(ok));
  return text;
}

/** What the status API says, without the parts that move with the clock. */
async function snapshot(line: string): Promise<string> {
  const { whyIdle: _w, inAutoTime: _i, ...rest } = (await p.t.status(line)) as Record<string, unknown>;
  return JSON.stringify(rest);
}

interface Forged {
  status: number;
  body: string;
  csrfFrom: string;
}

/**
 * A POST sent by script from the person's own page (their cookies, this site's
 * Origin), as app.js would send it: with the CSRF token read from the page's
 * form unless `withToken` is false. A fresh nonce each time.
 */
function forge(page: Page, line: string, fields: Record<string, string>, withToken = true): Promise<Forged> {
  return page.evaluate(
    async ({ url, fields, withToken }) => {
      const input = document.querySelector<HTMLInputElement>('form input[name="_csrf"]');
      const token = input?.value ?? document.getElementById('main')?.getAttribute('data-csrf') ?? '';
      const body = new URLSearchParams({ nonce: crypto.randomUUID().replaceAll('-', ''), back: location.pathname, ...fields });
      if (withToken) body.set('_csrf', token);
      const res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body });
      return { status: res.status, body: await res.text(), csrfFrom: input ? 'form' : 'main' };
    },
    { url: `/lines/${line}/actions`, fields, withToken },
  );
}

/**
 * The refused side of an action: no button for this person on `path`, and the
 * forged POST is answered with Slack's words for them (the command API runs the
 * same path) and changes nothing. Returns the refusal.
 */
async function refused(who: string, path: string, buttonName: string, line: string, command: string, extra: Record<string, string> = {}): Promise<string> {
  const page = await open(who, path);
  await page.locator('h1').first().waitFor();
  expect(await button(page, buttonName).count(), `${who} sees "${buttonName}" on ${path}`).toBe(0);
  const before = await snapshot(line);
  const forged = await forge(page, line, { command, ...extra });
  expect(forged.status).toBe(200);
  const answer = JSON.parse(forged.body) as { ok: boolean; text: string };
  const text = extra.args ? `${command} ${extra.args}` : command;
  const slack = await p.t.api(who, text, line);
  expect(slack.ok).toBe(false);
  expect(answer).toEqual({ ok: false, text: slack.text });
  expect(await snapshot(line)).toBe(before);
  return answer.text;
}

const train = async (line = 'web') =>
  (await p.t.status(line)).train as { number: number; state: string; engineer: string | null; blocked: string | null; tickets: { authorEmail: string; state: string }[] } | null;

describe('more actions from the pages, in Chromium: accepted, and refused without a button', () => {
  test('engineer: anyone claims it (not the engineer again); an admin gives it by email (nobody else)', async () => {
    const eve = await open(EVE, '/lines/web/trains/1');
    await button(eve, 'Become the engineer').click();
    expect(await replyShown(eve, true)).toBe('You are now the engineer of train #1.');
    expect((await train())!.engineer).toBe(EVE);
    // Her page refreshed itself: the button is gone for the engineer.
    await button(eve, 'Become the engineer').waitFor({ state: 'detached' });
    const again = await refused(EVE, '/lines/web/trains/1', 'Become the engineer', 'web', 'engineer me');
    expect(again).toBe(`${EVE} is already the engineer of train #1.`);

    const admin = await open(ADMIN, '/lines/web/trains/1');
    await admin.getByLabel('Email of the new engineer').fill(BOB);
    await button(admin, 'Make engineer').click();
    expect(await replyShown(admin, true)).toBe(`${BOB} is now the engineer of train #1.`);
    expect((await train())!.engineer).toBe(BOB);
    const notAdmin = await refused(ALICE, '/lines/web/trains/1', 'Make engineer', 'web', 'engineer', { args: EVE });
    expect(notAdmin).toContain('Only admins may give the engineer role');
    expect((await train())!.engineer).toBe(BOB);
  }, 60_000);

  test('block with a reason and unblock: the engineer or an admin; an author sees neither', async () => {
    const noBlock = await refused(ALICE, '/lines/web/trains/1', 'Block', 'web', 'block', { args: 'sneaky' });
    expect(noBlock).toBe(`Only the engineer (${BOB}) or an admin may block the train.`);
    expect((await train())!.blocked).toBeNull();

    const bob = await open(BOB, '/lines/web/trains/1');
    await bob.getByLabel('Why block the deploy').fill('waiting for QA');
    await button(bob, 'Block').click();
    expect(await replyShown(bob, true)).toContain('waiting for QA');
    expect((await train())!.blocked).toBe('waiting for QA');
    await button(bob, 'Unblock').waitFor();

    const noUnblock = await refused(ALICE, '/lines/web/trains/1', 'Unblock', 'web', 'unblock');
    expect(noUnblock).toContain('Only the engineer');
    expect((await train())!.blocked).toBe('waiting for QA');

    const admin = await open(ADMIN, '/lines/web/trains/1');
    await button(admin, 'Unblock').click();
    await replyShown(admin, true);
    expect((await train())!.blocked).toBeNull();
    await button(admin, 'Block').waitFor();
  }, 60_000);

  test('found a problem: the author reopens her verification with a reason; someone with none to reopen cannot', async () => {
    expect((await p.t.api(ALICE, 'verify 1', 'web')).ok).toBe(true);
    const none = await refused(EVE, '/lines/web/trains/1', 'Found a problem', 'web', 'reopen 1', { args: 'looks odd' });
    expect(none).toContain('You have no verification on train #1');
    const ticket = async () => (await train())!.tickets.find((k) => k.authorEmail === ALICE)!.state;
    expect(await ticket()).toBe('verified');

    const alice = await open(ALICE, '/lines/web/trains/1');
    await alice.getByLabel('What is wrong (optional)').fill('login <broken>');
    await button(alice, 'Found a problem').click();
    expect(await replyShown(alice, true)).toBe('Reopened your verification on train #1; the deploy is blocked until you verify again.');
    expect(await ticket()).toBe('pending');
    await button(alice, 'Verify my changes').waitFor();
  }, 60_000);

  test('extend: the engineer confirms what will happen, then the train takes the platform; an author cannot', async () => {
    await p.push('web', [ALICE], 'Late fix');
    await p.t.until('the late fix waits on the platform', async () => (await p.t.status('web')).platform.length === 1);
    const notEngineer = await refused(ALICE, '/lines/web/trains/1', 'Extend with the platform…', 'web', 'extend', { mark: 'x'.repeat(32) });
    expect(notEngineer).toContain('Only the engineer');
    expect((await train())!.number).toBe(1);

    const bob = await open(BOB, '/lines/web/trains/1');
    await button(bob, 'Extend with the platform…').click();
    const dialog = bob.getByRole('dialog', { name: 'Extend train #1' });
    await dialog.waitFor();
    expect(await dialog.getByTestId('confirm-lines').textContent()).toContain('will be derailed and replaced by train #2 with 3 commits');
    expect((await train())!.number).toBe(1); // shown, not done
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    expect(await replyShown(bob, true)).toContain('Train #1 extended into train #2');
    const now = (await train())!;
    expect(now.number).toBe(2);
    expect(now.engineer).toBe(BOB);
    expect((await p.t.status('web')).platform).toEqual([]);
    // Train #2 builds; its verifications are owed again (Alice had reopened hers, Bob had not verified).
    await p.trainIs('web', 2, 'verifying');
  }, 60_000);

  test('mode: an admin switches the line to manual with a reason and back to schedule; others see no line actions', async () => {
    const notAdmin = await refused(EVE, '/lines/web', 'Switch to manual mode', 'web', 'mode manual', { args: 'nope' });
    expect(notAdmin).toContain('Only admins may change the mode');
    expect(await (await person(EVE)).getByTestId('line-actions').count()).toBe(0);

    const admin = await open(ADMIN, '/lines/web');
    await admin.getByTestId('action-mode-manual').getByLabel('Why (optional)').fill('release freeze');
    await button(admin, 'Switch to manual mode').click();
    expect(await replyShown(admin, true)).toContain('release freeze');
    expect(await p.t.status('web')).toMatchObject({ mode: 'manual', manualReason: 'release freeze' });

    await button(admin, 'Switch to schedule mode').click();
    // The reply replaces the previous one (which never names schedule mode).
    await expect.poll(() => outcome(admin).textContent()).toMatch(/^The line is now in schedule mode/);
    expect(await outcome(admin).locator('p').getAttribute('data-ok')).toBe('true');
    expect(await p.t.status('web')).toMatchObject({ mode: 'schedule', manualReason: null });
    await button(admin, 'Switch to manual mode').waitFor();
  }, 60_000);

  test('start a train and emergency reset (confirmed) from the line page: admins only', async () => {
    await p.push('api', [ALICE, BOB], 'Api change');
    await p.t.until('two commits on the api platform', async () => (await p.t.status('api')).platform.length === 2);
    const noStart = await refused(ALICE, '/lines/api', 'Start a train with the platform', 'api', 'start');
    expect(noStart).toContain('Only admins may start a train by hand');
    expect(await train('api')).toBeNull();

    const admin = await open(ADMIN, '/lines/api');
    await button(admin, 'Start a train with the platform').click();
    expect(await replyShown(admin, true)).toContain('Train #1 started with 2 commits');
    expect((await train('api'))!.number).toBe(1);

    // Wait for the build: a train changing state between the confirmation and Confirm makes it stale (by design).
    await p.trainIs('api', 1, 'verifying');
    const noReset = await refused(ALICE, '/lines/api', 'Emergency reset…', 'api', 'emergency', { args: 'panic', mark: 'x'.repeat(32) });
    expect(noReset).toContain('Only admins may run an emergency reset');

    await admin.goto(`${p.base}/lines/api`);
    await admin.getByTestId('action-emergency').getByLabel('Why (optional)').fill('prod down');
    await button(admin, 'Emergency reset…').click();
    const dialog = admin.getByRole('dialog', { name: 'Emergency reset' });
    await dialog.waitFor();
    const lines = (await dialog.getByTestId('confirm-lines').textContent()) ?? '';
    expect(lines).toContain('Reason: prod down');
    expect(lines).toContain('will be derailed');
    expect(lines).toContain('The line goes to manual mode');
    expect((await train('api'))!.number).toBe(1);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    expect(await replyShown(admin, true)).toContain('Emergency reset');
    const status = await p.t.status('api');
    expect(status.manualReason).toContain('emergency reset by admin@example.com: prod down');
    expect(status.train).toMatchObject({ number: 1, state: 'derailed' });
  }, 60_000);
});

describe('forgeries a browser can make', () => {
  test('a script POST without the CSRF token, and a form on another origin with the token: 403, nothing changed', async () => {
    await p.trainIs('web', 2, 'verifying');
    const ticket = async () => (await train())!.tickets.find((k) => k.authorEmail === ALICE)!.state;
    expect(await ticket()).toBe('pending');
    const alice = await open(ALICE, '/lines/web/trains/2');
    await button(alice, 'Verify my changes').waitFor();
    const before = await snapshot('web');

    // (a) From her own page, without the token.
    const noToken = await forge(alice, 'web', { command: 'verify 2' }, false);
    expect(noToken.status).toBe(403);
    expect(await snapshot('web')).toBe(before);

    // (b) Another origin (same host, another port) posts a form to the app in her browser, even with her token.
    const token = await alice.locator('form input[name="_csrf"]').first().inputValue();
    const html = `<!doctype html><title>Prize</title><form method="post" action="${p.base}/lines/web/actions">
      <input type="hidden" name="_csrf" value="${token}"><input type="hidden" name="nonce" value="forgedforgedforged01">
      <input type="hidden" name="command" value="verify 2"><input type="hidden" name="back" value="/lines/web">
      <button type="submit">Claim your prize</button></form>`;
    attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((r) => attacker!.listen(0, '127.0.0.1', r));
    const evil = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    const page = await alice.context().newPage();
    await page.goto(`${evil}/`);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url() === `${p.base}/lines/web/actions`), page.getByRole('button', { name: 'Claim your prize' }).click()]);
    const sent = await response.request().allHeaders();
    expect(sent.origin).toBe(evil);
    // Same site (127.0.0.1; the port does not count), so SameSite=Lax sent her session: only the Origin check stands.
    expect(sent.cookie ?? '').toContain('conductor_session=');
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain(`a POST from another site (${evil}) is refused`);
    expect(await snapshot('web')).toBe(before);
    expect(await ticket()).toBe('pending');
    await page.close();

    // The same request from her page, with the token, is what does it: the refusals above were the checks.
    const real = await forge(alice, 'web', { command: 'verify 2' });
    expect(JSON.parse(real.body)).toEqual({ ok: true, text: 'Verified your changes on train #2.' });
    expect(await ticket()).toBe('verified');
  }, 60_000);
});

describe('typed text across a live refresh', () => {
  test('a field typed into, then left, keeps its text when the page refreshes itself; the fresh rows still arrive', async () => {
    const page = await open(ADMIN, '/history');
    await page.waitForFunction(() => document.documentElement.dataset.live === 'connected');
    const actor = page.locator('input[name="actor"]');
    await actor.fill('half-typed@exa');
    await page.locator('h1').first().click(); // focus leaves the field
    const before = Number((await page.evaluate(() => document.documentElement.dataset.refreshes)) ?? '0');
    expect((await p.t.api(ADMIN, 'block typed-text check', 'web')).ok).toBe(true);
    await page.waitForFunction((n) => Number(document.documentElement.dataset.refreshes ?? '0') > n, before);
    await page.getByText('typed-text check').first().waitFor();
    expect(await actor.inputValue()).toBe('half-typed@exa');
    expect((await p.t.api(ADMIN, 'unblock', 'web')).ok).toBe(true);
  });
});
