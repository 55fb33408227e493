import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type JiraStatusChange, jiraWebhookHandler } from '../../../src/http/jira-webhook.js';
import { HttpError, sendJson } from '../../../src/http/router.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const SECRET = 'jira-hook-s3cret';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(known = new Set(['WEB-2'])) {
  const changes: JiraStatusChange[] = [];
  const handler = jiraWebhookHandler({
    secret: SECRET,
    doneStatus: 'Done',
    log,
    onChange: async (c) => {
      if (!known.has(c.key)) return 'unknown';
      changes.push(c);
      return 'applied';
    },
  });
  const server = http.createServer((req, res) => {
    void Promise.resolve(handler({ req, res, params: {}, log })).catch((err: unknown) => {
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.message });
      else sendJson(res, 500, { error: String(err) });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/jira`;
  return {
    changes,
    async post(body: unknown, opts: { secret?: string | null; header?: string } = {}) {
      const secret = opts.secret === undefined ? SECRET : opts.secret;
      const url = secret === null ? base : `${base}?secret=${encodeURIComponent(secret)}`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.header !== undefined ? { 'x-conductor-secret': opts.header } : {}) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
  };
}

/** What Jira Cloud sends for a status change (trimmed: the real payload carries the whole issue). */
function statusChange(key: string, from: string, to: string, extraItems: unknown[] = []) {
  return {
    timestamp: 1767614400000,
    webhookEvent: 'jira:issue_updated',
    issue_event_type_name: 'issue_generic',
    user: { accountId: 'acc-alice', displayName: 'Alice' },
    issue: { id: '10002', key, fields: { summary: "Verify Alice's changes on train #7", labels: ['conductor'], status: { name: to } } },
    changelog: {
      id: '555',
      items: [...extraItems, { field: 'status', fieldtype: 'jira', fieldId: 'status', from: '10000', fromString: from, to: '10001', toString: to }],
    },
  };
}

describe('POST /webhooks/jira', () => {
  it('refuses a missing or wrong secret with 401 and changes nothing', async () => {
    const h = await setup();
    expect((await h.post(statusChange('WEB-2', 'To Do', 'Done'), { secret: null })).status).toBe(401);
    expect((await h.post(statusChange('WEB-2', 'To Do', 'Done'), { secret: 'nope' })).status).toBe(401);
    expect((await h.post(statusChange('WEB-2', 'To Do', 'Done'), { secret: '' })).status).toBe(401);
    expect((await h.post(statusChange('WEB-2', 'To Do', 'Done'), { secret: null, header: 'wrong' })).status).toBe(401);
    expect(h.changes).toEqual([]);
  });

  it('accepts the secret in the query or in X-Conductor-Secret', async () => {
    const h = await setup();
    expect((await h.post(statusChange('WEB-2', 'To Do', 'Done'))).status).toBe(200);
    expect((await h.post(statusChange('WEB-2', 'Done', 'To Do'), { secret: null, header: SECRET })).status).toBe(200);
    expect(h.changes).toHaveLength(2);
  });

  it('answers 400 to a body that is not a JSON object', async () => {
    const h = await setup();
    expect((await h.post('{"webhookEvent": ')).status).toBe(400);
    expect((await h.post('[1, 2]')).status).toBe(400);
    const noKey = statusChange('WEB-2', 'To Do', 'Done') as Record<string, unknown>;
    delete noKey.issue;
    expect((await h.post(noKey)).status).toBe(400);
    expect(h.changes).toEqual([]);
  });

  it('ignores other events and updates that do not touch the status (202)', async () => {
    const h = await setup();
    const created = { ...statusChange('WEB-2', 'To Do', 'Done'), webhookEvent: 'jira:issue_created' };
    const r1 = await h.post(created);
    expect(r1).toMatchObject({ status: 202, body: { status: 'ignored' } });
    const comment = { ...statusChange('WEB-2', 'To Do', 'Done'), webhookEvent: 'comment_created' };
    expect((await h.post(comment)).status).toBe(202);
    const assignee = { ...statusChange('WEB-2', 'To Do', 'Done'), changelog: { id: '1', items: [{ field: 'assignee', fromString: null, toString: 'Alice' }] } };
    expect(await h.post(assignee)).toMatchObject({ status: 202, body: { status: 'ignored' } });
    const noChangelog = { webhookEvent: 'jira:issue_updated', issue: { key: 'WEB-2' } };
    expect((await h.post(noChangelog)).status).toBe(202);
    expect(h.changes).toEqual([]);
  });

  it('applies a move to Done (done: true) and back (done: false) with 200', async () => {
    const h = await setup();
    const r1 = await h.post(statusChange('WEB-2', 'In Progress', 'Done', [{ field: 'resolution', fromString: null, toString: 'Done' }]));
    expect(r1).toEqual({ status: 200, body: { status: 'applied', key: 'WEB-2', done: true } });
    const r2 = await h.post(statusChange('WEB-2', 'Done', 'In Progress'));
    expect(r2).toEqual({ status: 200, body: { status: 'applied', key: 'WEB-2', done: false } });
    const r3 = await h.post(statusChange('WEB-2', 'To Do', 'done'));
    expect(r3.body.done).toBe(true);
    expect(h.changes).toEqual([
      { key: 'WEB-2', done: true, by: 'Alice' },
      { key: 'WEB-2', done: false, by: 'Alice' },
      { key: 'WEB-2', done: true, by: 'Alice' },
    ]);
  });

  it('answers 202 unknown for an issue that is not a Conductor ticket', async () => {
    const h = await setup();
    expect(await h.post(statusChange('WEB-99', 'To Do', 'Done'))).toEqual({ status: 202, body: { status: 'unknown', key: 'WEB-99' } });
  });

  it('needs a secret to be built', () => {
    expect(() => jiraWebhookHandler({ secret: '', doneStatus: 'Done', log, onChange: async () => 'unknown' })).toThrow(/secret/);
  });
});
