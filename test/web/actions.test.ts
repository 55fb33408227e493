// POST /lines/<line>/actions and GET /lines/<line>/confirm (docs/behaviour.md §7 "Actions"):
// commands from the pages through the one command path, as the signed-in person; CSRF and
// Origin checked first; confirmations in Slack's words, refused when the line changed meanwhile;
// a replayed form changes nothing. Real PostgreSQL, real git, the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConfirmation } from '../../src/domain/confirmation.js';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';
import { signIn, type WebClient } from '../support/web-client.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const EVE = 'eve@example.com';

let p: PagesApp;
let admin: WebClient;
let alice: WebClient;
let bob: WebClient;
let eve: WebClient;

beforeAll(async () => {
  p = await startPagesApp();
  await p.push('web', [ALICE, BOB], 'First change');
  await p.trainIs('web', 1, 'verifying');
  [admin, alice, bob, eve] = await Promise.all([signIn(p.base, ADMIN), signIn(p.base, ALICE), signIn(p.base, BOB), signIn(p.base, EVE)]);
}, 90_000);
afterAll(() => p?.t.stop());

let nonces = 0;
const nonce = () => `test-nonce-${String(++nonces).padStart(8, '0')}`;

/** A form sent with JavaScript: `{ok, text}` back. */
async function act(who: WebClient, command: string, extra: Record<string, string> = {}, line = 'web'): Promise<{ ok: boolean; text: string; confirm?: string }> {
  const res = await who.post(`/lines/${line}/actions`, { command, nonce: nonce(), back: `/lines/${line}`, ...extra }, { accept: 'application/json', 'x-csrf-token': who.csrf });
  expect(res.status).toBe(200);
  return (await res.json()) as { ok: boolean; text: string; confirm?: string };
}

const train = async () =>
  (await p.t.status('web')).train as { number: number; state: string; engineer: string | null; blocked: string | null; tickets: { authorEmail: string; state: string }[] };
const ticketOf = async (email: string) => (await train()).tickets.find((k) => k.authorEmail === email)?.state;

/** The confirm page's form fields (what a browser would post). */
function confirmForm(html: string): Record<string, string> {
  const form = html.slice(html.indexOf('class="confirm-form"'));
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(form)?.[1]?.replaceAll('&amp;', '&') ?? '';
  return { command: field('command'), nonce: field('nonce'), back: field('back'), mark: field('mark'), _csrf: field('_csrf') };
}

describe('forged requests', () => {
  it('without the CSRF token, with a wrong one, from another site or without Origin: 403, and nothing changes', async () => {
    const before = await ticketOf(ALICE);
    const forms = { command: `verify 1`, nonce: nonce() };
    const noToken = await alice.post('/lines/web/actions', { ...forms, _csrf: '' });
    expect(noToken.status).toBe(403);
    const wrong = await alice.post('/lines/web/actions', { ...forms, _csrf: 'x'.repeat(alice.csrf.length) });
    expect(wrong.status).toBe(403);
    const foreign = await alice.post('/lines/web/actions', forms, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const noOrigin = await fetch(`${p.base}/lines/web/actions`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: alice.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...forms, _csrf: alice.csrf }),
    });
    expect(noOrigin.status).toBe(403);
    const signedOut = await fetch(`${p.base}/lines/web/actions`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: p.base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...forms, _csrf: alice.csrf }),
    });
    expect(signedOut.status).toBe(403);
    expect(await ticketOf(ALICE)).toBe(before);
    expect(before).toBe('pending');
  });
});

describe('actions', () => {
  it('verify: refused for someone with nothing to verify (the words Slack says), accepted from the author', async () => {
    const refused = await act(eve, 'verify 1');
    expect(refused).toEqual({ ok: false, text: (await p.t.api(EVE, 'verify 1', 'web')).text });
    expect(refused.text).toContain('You have no verification owed on train #1');
    expect(await act(alice, 'verify 1')).toMatchObject({ ok: true, text: 'Verified your changes on train #1.' });
    expect(await ticketOf(ALICE)).toBe('verified');
  });

  it('without JavaScript: 303 back to the page, which shows the reply once (escaped)', async () => {
    const res = await bob.post('/lines/web/actions', { command: 'reopen 1', args: 'it <b>breaks</b>', nonce: nonce(), back: '/lines/web/trains/1' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/lines/web/trains/1');
    const flash = res.headers.getSetCookie().find((c) => c.startsWith('conductor_flash='));
    expect(flash).toMatch(/HttpOnly/);
    expect(flash).toMatch(/SameSite=Lax/);
    const page = await bob.get('/lines/web/trains/1', { cookie: `${bob.cookie}; ${flash!.split(';')[0]}` });
    const html = await page.text();
    // Bob's changes were not verified yet: refused, in the rule's words.
    expect(html).toMatch(/data-testid="outcome"><p class="refused" data-ok="false">Your changes on train #1 are not verified yet.<\/p>/);
    // Shown once: the cookie is cleared.
    expect(page.headers.getSetCookie().some((c) => /^conductor_flash=;.*Max-Age=0/.test(c))).toBe(true);
  });

  it('a `back` a header cannot carry (a bidi override, a lone surrogate, CR LF) is sent back percent-encoded, not a 500', async () => {
    const before = await ticketOf(EVE);
    for (const [back, location] of [
      ['/lines/web\u202e', '/lines/web%E2%80%AE'],
      ['/lines/web/\ud800x', '/lines/web/%EF%BF%BDx'],
      ['/lines/w\u00e9b?q=a b', '/lines/w%C3%A9b?q=a%20b'],
      ['/lines/web\r\nSet-Cookie: x=1', '/lines/web'],
    ] as const) {
      const res = await eve.post('/lines/web/actions', { command: 'verify 1', nonce: nonce(), back });
      expect(res.status, back).toBe(303);
      expect(res.headers.get('location'), back).toBe(location);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('x='))).toBe(false);
    }
    expect(await ticketOf(EVE)).toBe(before);
  });

  it('a replayed form (same nonce) changes nothing and gets the first answer', async () => {
    const form = { command: 'reopen 1', args: 'found a bug', nonce: nonce(), back: '/lines/web' };
    const headers = { accept: 'application/json', 'x-csrf-token': alice.csrf };
    const first = (await (await alice.post('/lines/web/actions', form, headers)).json()) as { ok: boolean; text: string };
    expect(first.ok).toBe(true);
    expect(await ticketOf(ALICE)).toBe('pending');
    expect(await act(alice, 'verify 1')).toMatchObject({ ok: true });
    const replay = (await (await alice.post('/lines/web/actions', form, headers)).json()) as { ok: boolean; text: string };
    expect(replay).toEqual(first);
    expect(await ticketOf(ALICE)).toBe('verified');
    // The same nonce for another request is not silently answered with the first one's reply.
    const other = await alice.post('/lines/web/actions', { ...form, args: 'something else' }, headers);
    expect(other.status).toBe(422);
    expect(await ticketOf(ALICE)).toBe('verified');
  });

  it('engineer: anyone claims it; giving it away is for admins', async () => {
    const refused = await act(eve, 'engineer', { args: BOB });
    expect(refused.ok).toBe(false);
    expect(refused.text).toContain('Only admins may give the engineer role');
    expect(await act(eve, 'engineer me')).toMatchObject({ ok: true, text: 'You are now the engineer of train #1.' });
    expect((await train()).engineer).toBe(EVE);
    expect(await act(admin, 'engineer', { args: BOB })).toMatchObject({ ok: true });
    expect((await train()).engineer).toBe(BOB);
  });

  it('block and unblock: the engineer or an admin only', async () => {
    const refused = await act(alice, 'block', { args: 'waiting for QA' });
    expect(refused).toMatchObject({ ok: false, text: `Only the engineer (${BOB}) or an admin may block the train.` });
    expect((await train()).blocked).toBeNull();
    expect(await act(bob, 'block', { args: 'waiting for QA' })).toMatchObject({ ok: true });
    expect((await train()).blocked).toBe('waiting for QA');
    expect((await act(eve, 'unblock')).ok).toBe(false);
    expect(await act(admin, 'unblock')).toMatchObject({ ok: true });
    expect((await train()).blocked).toBeNull();
  });

  it('retry: refused when nothing failed, for a driver; who may, in the words of the rule, for others', async () => {
    expect(await act(bob, 'retry')).toEqual({ ok: false, text: 'There is no failed job to retry.' });
    expect((await act(eve, 'retry')).text).toContain('Only the engineer');
  });

  it('deploy: refused for a non-engineer, started by the engineer once everyone verified', async () => {
    expect(await act(bob, 'verify 1')).toMatchObject({ ok: true });
    const refused = await act(alice, 'deploy');
    expect(refused).toEqual({ ok: false, text: `Only the engineer (${BOB}) or an admin may deploy.` });
    expect((await train()).state).toBe('verifying');
    // The button is shown to the engineer and an admin only.
    expect(await bob.html('/lines/web/trains/1')).toContain('data-testid="action-deploy"');
    expect(await admin.html('/lines/web/trains/1')).toContain('data-testid="action-deploy"');
    const alicePage = await alice.html('/lines/web/trains/1');
    expect(alicePage).not.toContain('data-testid="action-deploy"');
    expect(alicePage).toContain('data-testid="action-reopen"');
    expect(await act(bob, 'deploy')).toEqual({ ok: true, text: 'Deploy of train #1 started.' });
    await p.t.until('train #1 deployed', async () => (await p.t.status('web')).lastDeployed?.number === 1);
  });

  it('start: admins start a train by hand, up to a chosen commit', async () => {
    const [first] = await p.push('api', [ALICE, BOB], 'Api change');
    const refused = await act(alice, `start ${first!}`, {}, 'api');
    expect(refused).toEqual({ ok: false, text: (await p.t.api(ALICE, `start ${first!}`, 'api')).text });
    expect(refused.text).toContain('Only admins may start a train by hand');
    expect((await p.t.status('api')).train).toBeNull();
    expect(await act(admin, 'start', { args: first! }, 'api')).toEqual({ ok: true, text: 'Train #1 started with 1 commit; 1 commit stays on the platform.' });
    expect((await p.t.status('api')).train).toMatchObject({ number: 1, commits: [{ sha: first }] });
  });

  it('a command that is not an action of the pages, or for another line, is refused', async () => {
    expect(await act(alice, 'status')).toMatchObject({ ok: false });
    const other = await act(admin, 'mode manual --line api');
    expect(other).toEqual({ ok: false, text: 'This form acts on web: run commands for api from its own page.' });
  });
});

describe('buttons', () => {
  it('revert: beside your own commits only; every commit for an admin', async () => {
    const t1 = (await p.t.app.engine.read('web', { extraTrains: [1] })).state.trains.find((t) => t.number === 1)!;
    const mine = t1.commits.find((c) => c.authorEmail === ALICE)!.sha.slice(0, 8);
    const bobs = t1.commits.find((c) => c.authorEmail === BOB)!.sha.slice(0, 8);
    const html = await alice.html('/lines/web/trains/1');
    expect(html).toContain(`aria-label="Revert ${mine}"`);
    expect(html).not.toContain(`aria-label="Revert ${bobs}"`);
    const all = await admin.html('/lines/web/trains/1');
    expect(all).toContain(`aria-label="Revert ${bobs}"`);
    expect(await eve.html('/lines/web/trains/1')).not.toContain('aria-label="Revert ');
  });

  it('the line page: start, mode and emergency for admins only', async () => {
    const adminPage = await admin.html('/lines/api');
    expect(adminPage).toContain('data-testid="line-actions"');
    expect(adminPage).toContain('data-testid="action-emergency"');
    expect(adminPage).toContain('data-testid="action-mode-schedule"');
    expect(await alice.html('/lines/api')).not.toContain('data-testid="line-actions"');
  });
});

describe('confirmations', () => {
  beforeAll(async () => {
    await p.push('web', [ALICE], 'Second change');
    await p.trainIs('web', 2, 'verifying');
    await p.push('web', [BOB], 'Waits on the platform');
  }, 60_000);

  it('a confirmed command sent without confirmation goes to the confirm page first and changes nothing', async () => {
    const json = await act(admin, 'derail', { args: 'flaky' });
    expect(json.ok).toBe(false);
    expect(json.confirm).toBe('/lines/web/confirm?command=derail+flaky&back=%2Flines%2Fweb');
    const plain = await admin.post('/lines/web/actions', { command: 'derail', args: 'flaky', nonce: nonce(), back: '/lines/web/trains/2' });
    expect(plain.status).toBe(303);
    expect(plain.headers.get('location')).toBe('/lines/web/confirm?command=derail+flaky&back=%2Flines%2Fweb%2Ftrains%2F2');
    expect((await train()).state).toBe('verifying');
  });

  it("the confirm page shows Slack's words (the same function), escaped; someone who may not is told so, with no form", async () => {
    const html = await admin.html('/lines/web/confirm?command=derail&args=%3Cb%3Eflaky%3C%2Fb%3E&back=/lines/web/trains/2');
    const { state } = await p.t.app.engine.read('web');
    const words = describeConfirmation(state, 'derail', { reason: '<b>flaky</b>', now: new Date() });
    expect(html).toContain(`<h1 id="confirm-title">${words.title}</h1>`);
    // Escaped, with the command spans (backticks in Slack) as <code>.
    for (const l of words.lines)
      expect(html).toContain(
        l
          .replaceAll('&', '&amp;')
          .replaceAll('<', '&lt;')
          .replace(/`([^`]*)`/g, '<code>$1</code>'),
      );
    expect(html).not.toContain('<b>flaky');
    expect(html).toContain('This acts on the branch and the channel at once. Press <strong>Confirm</strong> only if you mean it.');
    expect(confirmForm(html).mark).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const refused = await eve.html('/lines/web/confirm?command=derail');
    expect(refused).toContain('data-testid="confirm-refused"');
    expect(refused).toContain('Only the engineer');
    expect(refused).not.toContain('name="mark"');
  });

  it("someone the rule refuses gets the rule's words, confirmation or not", async () => {
    expect(await eve.html('/lines/web/confirm?command=extend')).toContain('Only the engineer');
    const forged = await eve.post('/lines/web/actions', { command: 'derail', args: 'flaky', mark: 'x'.repeat(32), nonce: nonce() }, { accept: 'application/json', 'x-csrf-token': eve.csrf });
    expect(await forged.json()).toEqual({ ok: false, text: expect.stringMatching(/^Only the engineer \(.+\) or an admin may derail the train\.$/) });
    expect((await train()).state).toBe('verifying');
  });

  it('a confirmation given before the train changed is refused, and nothing is applied', async () => {
    const form = confirmForm(await admin.html('/lines/web/confirm?command=derail&args=flaky&back=/lines/web/trains/2'));
    expect(form.command).toBe('derail flaky');
    // Meanwhile someone blocks the train.
    expect(await act(admin, 'block', { args: 'hold on' })).toMatchObject({ ok: true });
    const res = await admin.post('/lines/web/actions', form);
    expect(res.status).toBe(303);
    // Back to the confirm page, which says what would happen now.
    expect(res.headers.get('location')).toBe('/lines/web/confirm?command=derail+flaky&back=%2Flines%2Fweb%2Ftrains%2F2');
    const flash = res.headers.getSetCookie().find((c) => c.startsWith('conductor_flash='))!;
    const again = await (await admin.get(res.headers.get('location')!, { cookie: `${admin.cookie}; ${flash.split(';')[0]}` })).text();
    expect(again).toContain('Nothing was done: the line changed since this confirmation was shown');
    expect((await train()).state).toBe('verifying');
    expect((await train()).number).toBe(2);
    // A fresh confirmation goes through; its replay changes nothing more.
    const fresh = confirmForm(again);
    const done = await admin.post('/lines/web/actions', fresh, { accept: 'application/json', 'x-csrf-token': admin.csrf });
    expect(await done.json()).toMatchObject({ ok: true, text: expect.stringContaining('Train #2 derailed') });
    const status = await p.t.status('web');
    const derailed = await p.t.app.engine.read('web', { extraTrains: [2] });
    expect(derailed.state.trains.find((t) => t.number === 2)?.derailReason).toBe('flaky');
    const replay = await admin.post('/lines/web/actions', fresh, { accept: 'application/json', 'x-csrf-token': admin.csrf });
    expect(await replay.json()).toMatchObject({ ok: true, text: expect.stringContaining('Train #2 derailed') });
    expect((await p.t.status('web')).train?.number).toBe(status.train?.number);
  });

  it('extend: the engineer confirms and the train takes the platform', async () => {
    await p.trainIs('web', 3, 'verifying');
    const engineer = (await train()).engineer!;
    await p.push('web', [ALICE], 'Late fix');
    const who = [admin, alice, bob, eve].find((c) => c.email === engineer) ?? admin;
    const page = await who.html('/lines/web/confirm?command=extend');
    expect(page).toContain('will be derailed and replaced by train #4');
    const res = await who.post('/lines/web/actions', confirmForm(page), { accept: 'application/json', 'x-csrf-token': who.csrf });
    expect(await res.json()).toMatchObject({ ok: true, text: expect.stringContaining('Train #3 extended into train #4') });
    expect((await train()).number).toBe(4);
  });

  it('rollback: confirmed by an admin, refused for others on the confirm page', async () => {
    // Deploy train #4 so that #1 is an earlier deployed train.
    await p.trainIs('web', 4, 'verifying');
    const t4 = await train();
    for (const k of t4.tickets) expect((await p.t.api(k.authorEmail, 'verify 4', 'web')).ok).toBe(true);
    expect(await p.t.api(ADMIN, 'deploy', 'web')).toEqual({ ok: true, text: 'Deploy of train #4 started.' });
    await p.t.until('train #4 deployed', async () => (await p.t.status('web')).lastDeployed?.number === 4);
    expect(await eve.html('/lines/web/confirm?command=rollback+1')).toContain('Only the engineer');
    const page = await admin.html('/lines/web/confirm?command=rollback+1');
    expect(page).toContain('Production will be rolled back to train #1');
    const res = await admin.post('/lines/web/actions', confirmForm(page), { accept: 'application/json', 'x-csrf-token': admin.csrf });
    expect(await res.json()).toEqual({ ok: true, text: 'Rolling back to train #1.' });
    await p.t.until('production runs #1', async () => (await p.t.status('web')).production?.number === 1);
  });

  it('emergency and mode: admins only', async () => {
    expect((await eve.html('/lines/api/confirm?command=emergency')).includes('Only admins may run an emergency reset')).toBe(true);
    expect(await act(eve, 'mode schedule', {}, 'api')).toMatchObject({ ok: false, text: expect.stringContaining('Only admins may change the mode') });
    expect(await act(admin, 'mode manual', { args: 'release freeze' }, 'api')).toMatchObject({ ok: true });
    expect((await p.t.status('api')).manualReason).toBe('release freeze');
    const page = await admin.html('/lines/api/confirm?command=emergency&args=prod+down');
    expect(page).toContain('The line goes to manual mode');
    const res = await admin.post('/lines/api/actions', confirmForm(page), { accept: 'application/json', 'x-csrf-token': admin.csrf });
    expect(await res.json()).toMatchObject({ ok: true, text: expect.stringContaining('Emergency reset') });
    expect((await p.t.status('api')).manualReason).toContain('emergency reset by admin@example.com: prod down');
  });
});

describe('revert', () => {
  it("refused for someone else's commit; the author's own revert lands on the platform", async () => {
    const t1 = (await p.t.app.engine.read('web', { extraTrains: [1] })).state.trains.find((t) => t.number === 1)!;
    const mine = t1.commits.find((c) => c.authorEmail === ALICE)!.sha;
    const refused = await act(eve, `revert ${mine}`);
    expect(refused).toEqual({ ok: false, text: (await p.t.api(EVE, `revert ${mine}`, 'web')).text });
    expect(refused.text).toContain(`is ${ALICE}'s commit: you may revert your own commits`);
    const done = await act(alice, `revert ${mine}`);
    expect(done).toMatchObject({ ok: true, text: expect.stringContaining(`Reverting ${mine.slice(0, 7)}`) });
    // The revert commit lands on the branch and Conductor records it (on the platform, or already on a train).
    await p.t.until('the revert commit is recorded', async () => {
      const { state } = await p.t.app.engine.read('web');
      return [...state.platform, ...state.trains.flatMap((t) => t.commits)].some((c) => c.message.startsWith('Revert "First change') && c.authorEmail === ALICE);
    });
  });
});
