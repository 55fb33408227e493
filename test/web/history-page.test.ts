// GET /history (docs/behaviour.md §7): the audit log in words, with the
// filters and cursor of /api/history, over the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type PagesApp, startPagesApp } from '../support/pages-app.js';
import { signIn, type WebClient } from '../support/web-client.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
let p: PagesApp;
let me: WebClient;

beforeAll(async () => {
  p = await startPagesApp();
  await p.push('web', ['alice@example.com'], 'First change');
  await p.trainIs('web', 1, 'verifying');
  expect((await p.t.api(ADMIN, `block ${HOSTILE} waiting for the DB`, 'web')).ok).toBe(true);
  expect((await p.t.api(ADMIN, 'unblock', 'web')).ok).toBe(true);
  expect((await p.t.api(ADMIN, 'mode schedule on for the test', 'api')).ok).toBe(true);
  me = await signIn(p.base, 'erin@example.com');
}, 60_000);
afterAll(() => p?.t.stop());

const actions = (html: string) => [...html.matchAll(/<tr data-action="([^"]+)"/g)].map((m) => m[1]);

describe('the history page', () => {
  it('asks for sign-in first', async () => {
    const res = await fetch(`${p.base}/history?line=web`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/auth/login?next=%2Fhistory%3Fline%3Dweb');
  });

  it('lists the log newest first, in words, with line, actor and train link; user text stays text', async () => {
    const html = await me.html('/history');
    const shown = actions(html);
    expect(shown[0]).toBe('line.mode');
    expect(shown).toContain('train.created');
    expect(html).toContain('switched the line from manual to schedule mode: on for the test');
    expect(html).toContain('href="/lines/web/trains/1">train #1</a>');
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain('blocked train #1: &lt;img src=x onerror=alert(1)> waiting for the DB');
    // Every action code is offered in the filter, with its family.
    expect(html).toContain('<option value="train.derailed">train.derailed</option>');
    expect(html).toContain('<option value="job.">every job.* action</option>');
  });

  it('filters by line, person and action (a family too), and the form keeps them', async () => {
    const web = await me.html('/history?line=web&action=train.');
    expect(new Set(actions(web))).toEqual(new Set(['train.created', 'train.blocked', 'train.unblocked']));
    expect(web).toContain('<option value="web" selected>web</option>');
    expect(web).toContain('<option value="train." selected>');
    const admin = await me.html(`/history?actor=${encodeURIComponent(ADMIN.toUpperCase())}`);
    expect(actions(admin).sort()).toEqual(['line.mode', 'train.blocked', 'train.unblocked']);
    expect(await me.html('/history?line=api&action=train.blocked')).toContain('No entry matches these filters');
  });

  it('pages with an Older link that keeps the filters', async () => {
    const first = await me.html('/history?line=web&limit=2');
    expect(actions(first)).toHaveLength(2);
    const older = /<a href="([^"]+)" rel="next">Older<\/a>/.exec(first)![1]!.replaceAll('&amp;', '&');
    expect(older).toMatch(/^\/history\?line=web&limit=2&before=\d+$/);
    const second = await me.html(older);
    expect(actions(second).length).toBeGreaterThan(0);
    expect(second).toContain('>Newest</a>');
    // The two pages are the start of the whole log, in order, without overlap.
    const all = actions(await me.html('/history?line=web&limit=200'));
    expect([...actions(first), ...actions(second)]).toEqual(all.slice(0, actions(first).length + actions(second).length));
  });

  it('a bad parameter shows the form with the reason (400), never JSON', async () => {
    for (const [q, reason] of [
      ['limit=0', 'limit: must be'],
      ['line=nope', 'no line is called'],
      ['before=x', 'before: must be'],
      ['action=DROP%20TABLE', 'action: must be'],
      [`actor=${encodeURIComponent(HOSTILE)}`, 'actor: must be an email'],
    ] as const) {
      const res = await me.get(`/history?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = await res.text();
      expect(html, q).toContain(reason);
      expect(html).toContain('action="/history"');
      expect(html).not.toContain(HOSTILE);
    }
  });
});
