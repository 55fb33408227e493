import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/parse.js';
import { checkEmail, pickEngineer } from '../../src/domain/index.js';
import { type RunningApp, startTestApp } from '../support/app-harness.js';
import { ALICE, aCommit, ctxAt, STRANGER } from '../support/domain-builders.js';

const RLO = '\u202e';
const LONG = `${'a'.repeat(290)}@example.com`;

describe('identities: one rule for every email that enters', () => {
  it.each([
    ['alice@example.com', 'alice@example.com'],
    ['  Alice.Smith+ci@Example.COM ', 'alice.smith+ci@example.com'],
    ['conductor@localhost', 'conductor@localhost'],
    ['jürgen@bücher.de', 'jürgen@bücher.de'],
  ])('accepts %j as %j', (raw, email) => {
    expect(checkEmail(raw)).toEqual({ ok: true, email });
  });

  it.each([
    ['', /empty/],
    [LONG, /longer than 254/],
    ['ali\u0000ce@example.com', /control character/],
    ['alice@example.com\n', /control character|space/],
    [`${RLO}moc.elpmaxe@ecila`, /text-direction/],
    [`alice${'\u2066'}@example.com`, /text-direction/],
    [`alice${'\u200f'}@example.com`, /text-direction/],
    ['alice@exa mple.com', /space/],
    ['alice', /exactly one @/],
    ['a@b@example.com', /exactly one @/],
    ['@example.com', /before @/],
    [`${'a'.repeat(65)}@example.com`, /before @/],
    ['<alice>@example.com', /before @/],
    ['alice@example', /domain name/],
    ['alice@-example.com', /domain name/],
    ['alice@example..com', /domain name/],
  ])('refuses %j, saying why', (raw, why) => {
    const r = checkEmail(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });

  it('a commit author with a hostile email never becomes the engineer', () => {
    for (const bad of [LONG, `${RLO}evil@example.com`, 'evil\u0000@example.com', 'root@buildbox']) {
      const commits = [aCommit('e1', bad), aCommit('a1', ALICE)];
      for (const r of [0, 0.5, 0.99])
        expect(
          pickEngineer(
            commits,
            ctxAt(STRANGER, undefined, () => r),
          ),
        ).toBe(ALICE);
      expect(
        pickEngineer(
          [aCommit('e2', bad)],
          ctxAt(STRANGER, undefined, () => 0),
        ),
      ).toBeNull();
    }
  });

  it('`engineer <email>` refuses an address that is no identity', () => {
    const r = parseCommand(`engineer ${RLO}evil@example.com`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/not an email Conductor accepts/);
  });
});

describe('POST /api/command: hostile identities and text are a 400 that says why', () => {
  let t: RunningApp;
  let base: string;
  const post = (body: unknown) => fetch(`${base}/api/command`, { method: 'POST', body: JSON.stringify(body) });
  beforeAll(async () => {
    t = await startTestApp();
    base = `http://127.0.0.1:${t.app.port}`;
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it.each([
    [{ user: 'admin\u0000@example.com', text: 'status' }, /"user".*control character/],
    [{ user: LONG, text: 'status' }, /"user".*longer than 254/],
    [{ user: `${RLO}moc.elpmaxe@nimda`, text: 'status' }, /"user".*text-direction/],
    [{ user: 'admin@example.com', text: 'mode manual\u0000' }, /"text" contains a control character/],
    [{ user: 'admin@example.com', text: 'status', line: 'demo\u0000' }, /"line"/],
    [{ user: 'admin@example.com', text: 'engineer evil\u0000@example.com' }, /./],
  ])('%j → 400', async (body, why) => {
    const before = await t.status('demo');
    const res = await post(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { ok: boolean; error: string };
    expect(json.ok).toBe(false);
    expect(json.error).toMatch(why);
    expect(await t.status('demo')).toEqual(before);
  });

  it('still accepts a plain address (in any case)', async () => {
    const res = await post({ user: 'Admin@Example.com', text: 'status' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
  });
});
