/**
 * behaviour.md §8 on the train page, in real Chromium: the culprit search of a
 * failed train shows its state, its builds and the culprit in words; the
 * engineer or an admin gets one action, "Revert it and extend", which goes
 * through the usual confirmation and leaves a new train with the revert; an
 * author who may not is shown no button. Axe finds nothing serious on the
 * section, light and dark. One browser for the file.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DemoLineApp, startDemoLineApp } from '../support/app-harness.js';
import { expectAccessible, launchBrowser, signInWithForm } from '../support/browser.js';

const ADMIN = 'admin@example.com';
const AUTHORS = ['carol@example.com', 'dave@example.com'];

let browser: Browser;
let x: DemoLineApp;
const shas: string[] = [];

beforeAll(async () => {
  [browser, x] = await Promise.all([
    launchBrowser(),
    startDemoLineApp({
      tmpPrefix: 'conductor-bisect-web-',
      conductorYml: (r) => `
admins: [${ADMIN}]
lines:
  - name: web
    repo: ${r}
    pollSeconds: 3600
    build: { command: "test ! -f broken" }
    deploy: { command: "true" }
`,
    }),
  ]);
  const dev = await x.t.developer(x.repo);
  for (let i = 0; i < 6; i++) shas.push(await dev.commit(AUTHORS[i % 2]!, i === 3 ? 'Break the <b>build</b> & more' : `Change ${i}`, i === 3 ? 'broken' : undefined));
  await dev.push();
  await x.t.app.scheduler.fetchNow('web');
  await x.t.until('the culprit found', async () => (await x.t.status('web')).train?.bisect?.state === 'found', 60_000);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await x?.t.stop();
});

async function open(email: string, path: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme });
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  await signInWithForm(page, x.base, email);
  await page.goto(`${x.base}${path}`);
  return page;
}

describe('the train page shows the culprit search', () => {
  test('the culprit in words (escaped), the builds, and no action for an author who may not', async () => {
    // The engineer (drawn among the authors) may revert the culprit and extend; the other author may not.
    const engineer = (await x.t.status('web')).train.engineer as string;
    const page = await open(AUTHORS.find((a) => a !== engineer)!, '/lines/web/trains/1');
    const section = page.locator('section[data-bisect]');
    expect(await section.getAttribute('data-bisect')).toBe('found');
    expect(await page.getByTestId('culprit').textContent()).toBe(`The build first fails at ${shas[3]!.slice(0, 8)} (dave, “Break the <b>build</b> & more”).`);
    const rows = section.locator('table.bisect-builds tbody tr');
    const n = await rows.count();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(5); // ⌈log₂ 6⌉ + 2
    expect(await section.locator('b').count()).toBe(0);
    expect(await page.getByTestId('action-revert-extend').count()).toBe(0);
    await page.context().close();
  });

  for (const scheme of ['light', 'dark'] as const) {
    test(`axe: nothing serious on the page with the search (${scheme})`, async () => {
      const page = await open(ADMIN, '/lines/web/trains/1', scheme);
      await expectAccessible(page, `the train page with its culprit search (${scheme})`);
      await page.context().close();
    });
  }

  test('an admin reverts it and extends in one action, through the confirmation', async () => {
    const page = await open(ADMIN, '/lines/web/trains/1');
    await page.getByTestId('action-revert-extend').getByRole('button').click();
    const dialog = page.getByRole('dialog', { name: 'Revert and extend #1' });
    await dialog.waitFor();
    expect(await dialog.getByTestId('confirm-lines').textContent()).toContain('A revert of it will be pushed to main');
    await expectAccessible(page, 'the revert-and-extend confirmation');
    await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await x.t.until('train #2 with the revert', async () => (await x.t.status('web')).train?.number === 2, 60_000);
    const t2 = (await x.t.status('web')).train as { commits: { sha: string }[] };
    expect(t2.commits).toHaveLength(7);
    expect(t2.commits.slice(0, 6).map((c) => c.sha)).toEqual(shas);
    await x.t.until('train #2 builds green', async () => (await x.t.status('web')).train?.state === 'verifying', 60_000);
    await page.context().close();
  });
});
