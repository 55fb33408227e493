/**
 * The Prometheus text of src/http/metrics.ts read by the strict parser in test/support/prom-text.ts,
 * and the parser's own strictness (it must refuse what Prometheus would refuse, or the other tests prove nothing).
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/http/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { parsePromText } from '../support/prom-text.js';

describe('the strict Prometheus text parser', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';

  it('reads a valid exposition: families, types, help, escaped label values, special values', () => {
    const p = parsePromText(`${ok}# HELP g Quote " and \\\\ and \\n.\n# TYPE g gauge\ng{v="a\\"b\\\\c\\nd"} NaN\ng{v="x"} -Inf\ng 1.5e3\n`);
    expect(p.families.get('a_total')).toMatchObject({ type: 'counter', help: 'A.' });
    expect(p.families.get('g')!.help).toBe('Quote " and \\ and \n.');
    expect(p.value('g', { v: 'a"b\\c\nd' })).toBeNaN();
    expect(p.value('g', { v: 'x' })).toBe(-Infinity);
    expect(p.value('g')).toBe(1500);
  });

  it.each([
    ['a second HELP', `${ok}# HELP a_total again\n`],
    ['a second TYPE', `# TYPE a_total counter\n# TYPE a_total counter\na_total 1\n`],
    ['TYPE after samples', `a_total 1\n# TYPE a_total counter\n`],
    ['the same series twice', `${ok}a_total{x="1"} 3\n`],
    ['the same series twice, labels in another order', `b{x="1",y="2"} 1\nb{y="2",x="1"} 1\n`],
    ['a family split', `a 1\nb 1\na{x="2"} 1\n`],
    ['a bad escape in a label value', `a{x="\\t"} 1\n`],
    ['an unescaped quote', `a{x="a"b"} 1\n`],
    ['a bad value', `a 1,5\n`],
    ['a bad metric name', `1a 1\n`],
    ['a label twice', `a{x="1",x="2"} 1\n`],
    ['a reserved label', `a{__x="1"} 1\n`],
    ['no final newline', `a 1`],
    ['two spaces', `a  1\n`],
    ['a timestamp that is not whole milliseconds', `a 1 1.5\n`],
    ['buckets not cumulative', `# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n`],
    ['no +Inf bucket', `# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n`],
    ['_count not the +Inf bucket', `# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n`],
    ['a bucket without le', `# TYPE h histogram\nh_bucket 1\n`],
  ])('refuses %s', (_why, text) => {
    expect(() => parsePromText(text)).toThrow();
  });
});

describe("an app's metrics in its own registry", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  }, 60_000);
  afterAll(() => db?.drop());

  const metricsOn = (lines: string[] = []) => new Metrics({ db: db.prisma, log: pino({ level: 'silent' }), lines });

  it('escapes a label value holding a quote, a backslash and a newline; the parser reads it back whole', async () => {
    const m = metricsOn();
    const route = 'GET /odd/"quoted"\\back\nslash';
    m.observe(route, 'GET', 200, 0.02);
    m.observe(route, 'GET', 200, 0.2);
    const text = await m.render();
    expect(text).toContain('route="GET /odd/\\"quoted\\"\\\\back\\nslash"');
    const p = parsePromText(text);
    expect(p.value('conductor_http_requests_total', { method: 'GET', route, status: '200' })).toBe(2);
    expect(p.value('conductor_http_request_duration_seconds_count', { method: 'GET', route })).toBe(2);
    expect(p.value('conductor_http_request_duration_seconds_sum', { method: 'GET', route })).toBeCloseTo(0.22);
    expect(p.value('conductor_http_request_duration_seconds_bucket', { method: 'GET', route, le: '0.05' })).toBe(1);
  });

  it('several apps in one process: no collision, each counts its own, process metrics once in each', async () => {
    const a = metricsOn(['web']);
    const b = metricsOn(['web']);
    a.gauge('conductor_web_event_streams', 'Open streams.', () => 3);
    b.gauge('conductor_web_event_streams', 'Open streams.', () => 5);
    a.record('web', [{ kind: 'train.derailed', train: 1 }]);
    a.observe('/x', 'GET', 200, 0.001);
    const [pa, pb] = [parsePromText(await a.render()), parsePromText(await b.render())];
    expect(pa.value('conductor_derails_total', { line: 'web' })).toBe(1);
    expect(pb.value('conductor_derails_total', { line: 'web' })).toBe(0);
    expect(pa.value('conductor_web_event_streams')).toBe(3);
    expect(pb.value('conductor_web_event_streams')).toBe(5);
    expect(pb.samples('conductor_http_requests_total')).toEqual([]);
    for (const p of [pa, pb]) {
      expect(p.samples('process_resident_memory_bytes')).toHaveLength(1);
      expect(p.value('process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
      expect(p.families.get('nodejs_heap_size_used_bytes')?.type).toBe('gauge');
    }
  });

  it('counts deploys and rollbacks by result, and job durations by kind and result; builds are not deploys', async () => {
    const m = metricsOn(['web']);
    m.record('web', [
      { kind: 'job.finished', train: 1, job: 'build', attempt: 1, result: 'succeeded', seconds: 45, settledLate: false },
      { kind: 'job.finished', train: 1, job: 'deploy', attempt: 1, result: 'unknown', seconds: 400, settledLate: false },
      { kind: 'job.finished', train: 1, job: 'deploy', attempt: 1, result: 'succeeded', seconds: null, settledLate: true },
      { kind: 'job.finished', train: 1, job: 'rollback', attempt: 1, result: 'failed', seconds: 20, settledLate: false },
    ]);
    const p = parsePromText(await m.render());
    expect(p.value('conductor_deploys_total', { line: 'web', kind: 'deploy', result: 'unknown' })).toBe(1);
    expect(p.value('conductor_deploys_total', { line: 'web', kind: 'deploy', result: 'succeeded' })).toBe(1);
    expect(p.value('conductor_deploys_total', { line: 'web', kind: 'deploy', result: 'failed' })).toBe(0);
    expect(p.value('conductor_deploys_total', { line: 'web', kind: 'rollback', result: 'failed' })).toBe(1);
    expect(p.samples('conductor_deploys_total', { kind: 'build' })).toEqual([]);
    expect(p.value('conductor_job_duration_seconds_count', { kind: 'build', result: 'succeeded' })).toBe(1);
    expect(p.value('conductor_job_duration_seconds_bucket', { kind: 'build', result: 'succeeded', le: '60' })).toBe(1);
    expect(p.value('conductor_job_duration_seconds_count', { kind: 'deploy', result: 'unknown' })).toBe(1);
    expect(p.value('conductor_job_duration_seconds_count', { kind: 'deploy', result: 'succeeded' })).toBeUndefined(); // settled late: no second duration
    expect(p.value('conductor_job_duration_seconds_sum', { kind: 'rollback', result: 'failed' })).toBe(20);
  });
});
