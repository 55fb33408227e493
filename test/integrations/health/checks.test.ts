/** behaviour.md §8: the real health checks against a fake Prometheus on 127.0.0.1 and real shell commands. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommandCheck } from '../../../src/integrations/health/command-check.js';
import { runPrometheusCheck } from '../../../src/integrations/health/prometheus-check.js';
import { type FakePrometheus, startFakePrometheus } from '../../support/fake-prometheus.js';

const LT = { op: '<' as const, threshold: 0.01 };
const TARGET = { line: 'web', train: 7, sha: 'abc123' };

describe('the Prometheus check', () => {
  let prom: FakePrometheus;
  beforeAll(async () => {
    prom = await startFakePrometheus();
  });
  afterAll(() => prom?.stop());
  const raw = (body: unknown, status = 200) => prom.set({ status, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const vector = (...values: string[]) => ({ status: 'success', data: { resultType: 'vector', result: values.map((v) => ({ metric: {}, value: [1700000000, v] })) } });

  it('compares the one value with healthyIf, and sends the query encoded', async () => {
    prom.set(0.002);
    expect(await runPrometheusCheck(prom.url, 'sum(rate(x{job="a b"}[5m]))', LT, 2000)).toEqual({
      outcome: 'healthy',
      value: 0.002,
      exitCode: null,
      message: 'value 0.002 (healthy if < 0.01)',
    });
    expect(prom.queries.at(-1)).toBe('sum(rate(x{job="a b"}[5m]))');
    prom.set(0.5);
    expect(await runPrometheusCheck(`${prom.url}/`, 'q', LT, 2000)).toMatchObject({ outcome: 'failed', value: 0.5 });
  });

  it('reads a scalar answer too', async () => {
    raw({ status: 'success', data: { resultType: 'scalar', result: [1700000000, '0'] } });
    expect(await runPrometheusCheck(prom.url, 'q', LT, 2000)).toMatchObject({ outcome: 'healthy', value: 0 });
  });

  it('is unknown when it cannot tell, and says why', async () => {
    const cases: [unknown, number, string][] = [
      [vector(), 200, 'the query returned no sample'],
      [vector('1', '2'), 200, 'the query returned 2 samples; it must return one (aggregate it, e.g. with sum())'],
      [vector('NaN'), 200, 'the value "NaN" is not a number'],
      [{ status: 'error', errorType: 'bad_data', error: '1:5: parse error' }, 400, 'refused the query (HTTP 400: 1:5: parse error)'],
      ['<html>gateway</html>', 502, 'answered HTTP 502 without JSON'],
      [{ status: 'success', data: { resultType: 'matrix', result: [] } }, 200, 'unexpected result type "matrix"'],
    ];
    for (const [body, status, why] of cases) {
      raw(body, status);
      const r = await runPrometheusCheck(prom.url, 'q', LT, 2000);
      expect(r.outcome, why).toBe('unknown');
      expect(r.message).toContain(why);
      expect(r.value).toBeNull();
    }
  });

  it('is unknown when Prometheus is down', async () => {
    await prom.down();
    try {
      // Refused, or (a pooled keep-alive connection) closed by the other side.
      const r = await runPrometheusCheck(prom.url, 'q', LT, 2000);
      expect(r).toMatchObject({ outcome: 'unknown', value: null, exitCode: null });
      expect(r.message).toMatch(new RegExp(`^Prometheus at ${prom.url} did not answer: (ECONNREFUSED: connect ECONNREFUSED|UND_ERR_SOCKET: other side closed)`));
      const again = await runPrometheusCheck(prom.url, 'q', LT, 2000);
      expect(again.message).toContain('did not answer: ECONNREFUSED');
    } finally {
      await prom.up();
    }
  });
});

describe('the command check', () => {
  it('exit 0 is healthy; it gets LINE, TRAIN and SHA', async () => {
    expect(await runCommandCheck('echo "$LINE #$TRAIN $SHA"', TARGET, 5000)).toEqual({ outcome: 'healthy', value: null, exitCode: 0, message: 'exit code 0: web #7 abc123' });
  });

  it('any other exit is a failure, with its exit code and the end of its output', async () => {
    expect(await runCommandCheck('echo 5xx rate too high >&2; exit 3', TARGET, 5000)).toEqual({
      outcome: 'failed',
      value: null,
      exitCode: 3,
      message: 'exit code 3: 5xx rate too high',
    });
  });

  it('a command that outlives its timeout is killed and unknown', async () => {
    const started = Date.now();
    const r = await runCommandCheck('sleep 30', TARGET, 300);
    expect(r).toMatchObject({ outcome: 'unknown', exitCode: null, message: 'the check command did not finish within 300 ms' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
