/**
 * `GET` and `POST /lines/<line>/schedule` on the whole app (real PostgreSQL):
 * an admin changes auto-time and freeze dates through the forms, and the
 * change is the Slack command's (same reply, same audit entry); anyone else
 * is refused as in Slack; a POST without the session's token or from another
 * site is refused before anything runs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';
import { signIn, type WebClient } from '../support/web-client.js';

let app: PagesApp;
let admin: WebClient;
let watcher: WebClient;
beforeAll(async () => {
  app = await startPagesApp();
  [admin, watcher] = await Promise.all([signIn(app.base, ADMIN), signIn(app.base, 'watcher@example.com')]);
}, 60_000);
afterAll(() => app?.t.stop());

const autotimeNow = async () => (await app.t.api(ADMIN, 'autotime', 'api')).text;
const freezesNow = async () => (await app.t.api(ADMIN, 'freeze list', 'api')).text;
const historyCount = async () => (await app.t.api(ADMIN, 'history 200', 'api')).text.split('\n').filter((l) => l.includes('auto-time') || l.includes('freeze date')).length;

/** Follows the 303 with the flash cookie it set, as a browser does; returns the page. */
async function follow(client: WebClient, res: Response): Promise<string> {
  expect(res.status, await res.clone().text()).toBe(303);
  const flash = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('conductor_flash='))
    ?.split(';')[0];
  expect(flash).toBeDefined();
  const page = await client.get(res.headers.get('location')!, { cookie: `${client.cookie}; ${flash}` });
  expect(page.status).toBe(200);
  // Read once: the page clears the cookie.
  expect(page.headers.getSetCookie().some((c) => c.startsWith('conductor_flash=;') && c.includes('Max-Age=0'))).toBe(true);
  return page.text();
}

const nonce = () => `n${Math.random().toString(36).slice(2)}${Date.now()}`;

describe('the schedule page', () => {
  test('admins get the forms, with each day’s windows plus empty rows; others get the grid and calendar read-only; the line page links to it', async () => {
    const html = await admin.html('/lines/api/schedule');
    expect(html).toContain('<form method="post" action="/lines/api/schedule" class="autotime-form"');
    expect(html).toContain('name="mon-0-start"');
    expect(html).toContain('name="sun-1-end"');
    expect(html).toContain('name="_csrf"');
    expect(html).toContain('data-testid="week-grid"');
    expect(html).toContain('data-testid="calendar"');
    expect(html).toContain('An end before the start crosses midnight');
    expect(html).toContain('<strong data-testid="timezone">UTC</strong>');
    expect(html).toMatch(/<td data-date="\d{4}-\d{2}-\d{2}" class="today" aria-current="date">/);

    const other = await watcher.html('/lines/api/schedule');
    expect(other).toContain('data-testid="week-grid"');
    expect(other).toContain('data-testid="calendar"');
    expect(other).not.toContain('<form method="post" action="/lines/api/schedule"');
    expect(other).toContain(`Only admins may change auto-time and freeze dates (admins: ${ADMIN})`);

    expect(await watcher.html('/lines/api')).toContain('<a href="/lines/api/schedule">');
    expect((await admin.get('/lines/nope/schedule')).status).toBe(404);
  });

  test('an admin sets several windows, one across midnight and one to 24:00: the Slack command’s reply, auto-time changed, audited once even when sent twice', async () => {
    const before = await historyCount();
    const form = {
      do: 'autotime',
      _nonce: nonce(),
      'mon-0-start': '09:00',
      'mon-0-end': '12:00',
      'mon-1-start': '13:00',
      'mon-1-end': '17:00',
      'tue-0-start': '09:00',
      'tue-0-end': '12:00',
      'fri-0-start': '22:00',
      'fri-0-end': '02:00',
      'sun-0-start': '20:00',
      'sun-0-end': '24:00',
      'sun-1-start': '',
      'sun-1-end': '',
      timezone: 'UTC',
    };
    const res = await admin.post('/lines/api/schedule', form);
    expect(res.headers.get('location')).toBe('/lines/api/schedule');
    const page = await follow(admin, res);
    expect(page).toContain('class="schedule-outcome schedule-outcome-ok" role="status" data-testid="schedule-outcome"><p>Auto-time is now ');
    expect(page).toContain('value="22:00"');
    // Friday 22:00-02:00 fills Friday 22-23 and Saturday 00-01.
    expect(page).toMatch(
      /<tr data-day="sat"><th scope="row">sat<\/th><td class="hour hour-in" data-hour="0"[^>]*><\/td><td class="hour hour-in" data-hour="1"[^>]*><\/td><td class="hour hour-out" data-hour="2">/,
    );
    expect(await autotimeNow()).toContain('Auto-time: ');
    expect(await autotimeNow()).toMatch(/fri 22:00.02:00/);

    // The same form again (a double click): one change, the same reply.
    const again = await follow(admin, await admin.post('/lines/api/schedule', form));
    expect(again).toContain('Auto-time is now ');
    expect(await historyCount()).toBe(before + 1);

    const history = await admin.html('/history?line=api');
    expect(history).toContain(`${ADMIN}</td>`);
    expect(history).toContain('changed auto-time');
  });

  test('the time zone field changes the line’s zone (as `autotime set … <zone>`); an unknown zone is the parser’s refusal', async () => {
    const res = await admin.post('/lines/api/schedule', { do: 'autotime', _nonce: nonce(), 'wed-0-start': '10:00', 'wed-0-end': '11:00', timezone: 'europe/paris' });
    const page = await follow(admin, res);
    expect(page).toContain('Auto-time is now wed 10:00-11:00 (Europe/Paris).');
    expect(page).toContain('<strong data-testid="timezone">Europe/Paris</strong>');
    const bad = await admin.post('/lines/api/schedule', { do: 'autotime', _nonce: nonce(), 'wed-0-start': '10:00', 'wed-0-end': '11:00', timezone: 'Mars/Olympus' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Unknown time zone `Mars/Olympus`');
    await app.t.api(ADMIN, 'autotime set daily 00:00-24:00 UTC', 'api');
  });

  test('a nonce sent again with other values changes nothing and says so; an unknown line is 404', async () => {
    const n = nonce();
    await follow(admin, await admin.post('/lines/api/schedule', { do: 'freeze-add', _nonce: n, date: '2098-01-01' }));
    const other = await follow(admin, await admin.post('/lines/api/schedule', { do: 'freeze-add', _nonce: n, date: '2098-01-02' }));
    expect(other).toContain('That form was already sent with other values');
    expect(await freezesNow()).toContain('2098-01-01');
    expect(await freezesNow()).not.toContain('2098-01-02');
    await app.t.api(ADMIN, 'freeze remove 2098-01-01', 'api');
    expect((await admin.post('/lines/nope/schedule', { do: 'freeze-add', date: '2098-01-02' })).status).toBe(404);
  });

  test('every row empty turns auto-time off (autotime clear)', async () => {
    const page = await follow(admin, await admin.post('/lines/api/schedule', { do: 'autotime', _nonce: nonce(), 'mon-0-start': '', 'mon-0-end': '', timezone: 'UTC' }));
    expect(page).toContain('Auto-time is now off: there are no windows');
    expect(await autotimeNow()).toContain('Auto-time is off');
  });

  test('a wrong time: the parser’s reply, the form as sent, status 400, nothing changed', async () => {
    await app.t.api(ADMIN, 'autotime set mon 08:00-10:00', 'api');
    const before = await autotimeNow();
    const res = await admin.post('/lines/api/schedule', { do: 'autotime', _nonce: nonce(), 'mon-0-start': '25:00', 'mon-0-end': '10:00', 'wed-0-start': '<b>x</b>', 'wed-0-end': '' });
    expect(res.status).toBe(400);
    let html = await res.text();
    expect(html).toContain('class="schedule-outcome schedule-outcome-refused"');
    expect(html).toContain("Wednesday's window 1 has a start (&lt;b>x&lt;/b>) but no end");
    expect(html).not.toContain('<b>x</b>');
    const parsed = await admin.post('/lines/api/schedule', { do: 'autotime', _nonce: nonce(), 'mon-0-start': '25:00', 'mon-0-end': '10:00' });
    expect(parsed.status).toBe(400);
    html = await parsed.text();
    expect(html).toContain('`25:00` is not a time: use 24-hour `HH:MM`');
    expect(html).toContain('value="25:00"');
    expect(await autotimeNow()).toBe(before);
  });

  test('freeze dates: add, shown in the calendar and the upcoming list; remove; past ones collapsed', async () => {
    const added = await follow(admin, await admin.post('/lines/api/schedule', { do: 'freeze-add', _nonce: nonce(), date: '2099-12-24', month: '2099-12' }));
    expect(added).toContain('2099-12-24 is now a freeze date');
    expect(added).toContain('<caption>December 2099</caption>');
    expect(added).toMatch(/<td data-date="2099-12-24" class="freeze">24<span class="visually-hidden">, freeze date<\/span><\/td>/);
    expect(added).toContain('<time datetime="2099-12-24">2099-12-24</time>');
    expect(await freezesNow()).toContain('2099-12-24');
    expect((await admin.html('/lines/api/schedule?month=2099-11')).includes('href="/lines/api/schedule?month=2099-12#freezes"')).toBe(true);

    // Adding it again is the command's refusal, not a second date.
    const twice = await follow(admin, await admin.post('/lines/api/schedule', { do: 'freeze-add', _nonce: nonce(), date: '2099-12-24' }));
    expect(twice).toContain('2099-12-24 is already a freeze date.');

    await app.t.api(ADMIN, 'freeze add 2001-01-01', 'api');
    const page = await admin.html('/lines/api/schedule');
    expect(page).toMatch(/<details><summary>Past freeze dates \(1\)<\/summary><ul class="freeze-list" data-testid="past"><li><time datetime="2001-01-01">/);

    const removed = await follow(admin, await admin.post('/lines/api/schedule', { do: 'freeze-remove', _nonce: nonce(), date: '2099-12-24' }));
    expect(removed).toContain('2099-12-24 is no longer a freeze date');
    expect(await freezesNow()).not.toContain('2099-12-24');
  });

  test('a non-admin’s forged POST gets Slack’s refusal and changes nothing', async () => {
    const before = [await autotimeNow(), await freezesNow()];
    const page = await follow(watcher, await watcher.post('/lines/api/schedule', { do: 'autotime', _nonce: nonce(), 'mon-0-start': '00:00', 'mon-0-end': '24:00' }));
    expect(page).toContain(`Only admins may change auto-time. Admins: ${ADMIN}.`);
    const slack = await app.t.api('watcher@example.com', 'autotime set mon 00:00-24:00', 'api');
    expect(page).toContain(slack.text);
    const freeze = await follow(watcher, await watcher.post('/lines/api/schedule', { do: 'freeze-add', date: '2099-01-01' }));
    expect(freeze).toContain('Only admins may change freeze dates.');
    expect([await autotimeNow(), await freezesNow()]).toEqual(before);
  });

  test('without the session’s token, from another site, or signed out: 403 and nothing changed', async () => {
    const before = await autotimeNow();
    const form = { do: 'autotime', 'mon-0-start': '00:00', 'mon-0-end': '24:00' };
    expect((await admin.post('/lines/api/schedule', { ...form, _csrf: '' })).status).toBe(403);
    expect((await admin.post('/lines/api/schedule', { ...form, _csrf: watcher.csrf })).status).toBe(403);
    expect((await admin.post('/lines/api/schedule', form, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await admin.post('/lines/api/schedule', form, { origin: 'null' })).status).toBe(403);
    const signedOut = await fetch(`${app.base}/lines/api/schedule`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: app.base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, _csrf: admin.csrf }),
    });
    expect(signedOut.status).toBe(403);
    expect(await autotimeNow()).toBe(before);
  });

  test('a long reply (a line with years of freeze dates) is cut so that its cookie stays under the browsers’ 4 KB', async () => {
    // 400 freeze dates, written as the database holds them (the reply to the next add lists them all).
    const dates = Array.from({ length: 400 }, (_, i) => new Date(Date.UTC(2090, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
    await app.t.db.pool.query(`UPDATE line SET freezes = $1::jsonb WHERE name = 'web'`, [JSON.stringify(dates)]);
    const res = await admin.post('/lines/web/schedule', { do: 'freeze-add', _nonce: nonce(), date: '2095-06-01' });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('conductor_flash='))!;
    expect(cookie.length).toBeLessThan(4096);
    const page = await follow(admin, res);
    expect(page).toContain('2095-06-01 is now a freeze date. Freeze dates: 2090-01-01, ');
    expect(page).toContain('…</p>');
  });

  test('a flash cookie that is not ours shows nothing', async () => {
    const page = await admin.get('/lines/api/schedule', { cookie: `${admin.cookie}; conductor_flash=Fe26.2**forged` });
    expect(page.status).toBe(200);
    expect(await page.text()).not.toContain('data-testid="schedule-outcome"');
  });
});
