import { conditionHolds, describeCondition, type HealthCondition, type HealthResult } from '../../domain/health.js';
import { unknown } from './probe.js';

/**
 * A `{prometheus, query, healthyIf}` health check: an instant query
 * (`GET <base>/api/v1/query?query=`), whose single value is compared with `healthyIf`.
 * Prometheus down, an error status, a malformed answer, no sample or several samples, or a
 * value that is not a number: the check could not tell, so the result is unknown.
 */
export async function runPrometheusCheck(baseUrl: string, query: string, healthyIf: HealthCondition, timeoutMs: number): Promise<HealthResult> {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  const where = `Prometheus at ${baseUrl}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const cause = [e.cause?.code, e.cause?.message].filter(Boolean);
    const why = e.name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : cause.length ? cause.join(': ') : e.message;
    return unknown(`${where} did not answer: ${why}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return unknown(`${where} answered HTTP ${res.status} without JSON`);
  }
  const b = body as { status?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (!res.ok || b.status !== 'success') return unknown(`${where} refused the query (HTTP ${res.status}${typeof b.error === 'string' ? `: ${b.error.slice(0, 200)}` : ''})`);
  const sample = pick(b.data);
  if ('error' in sample) return unknown(`${where}: ${sample.error}`);
  const value = Number(sample.value);
  if (sample.value.trim() === '' || !Number.isFinite(value)) return unknown(`${where}: the value ${JSON.stringify(sample.value.slice(0, 40))} is not a number`);
  const ok = conditionHolds(healthyIf, value);
  return { outcome: ok ? 'healthy' : 'failed', value, exitCode: null, message: `value ${value} (healthy if ${describeCondition(healthyIf)})` };
}

/** The one value of an instant query's answer (as Prometheus writes it, a string), or why there is none. */
function pick(data: { resultType?: unknown; result?: unknown } | undefined): { value: string } | { error: string } {
  if (!data) return { error: 'the answer has no data' };
  if (data.resultType === 'scalar') {
    const v = data.result as unknown[];
    return Array.isArray(v) && v.length === 2 ? { value: String(v[1]) } : { error: 'a malformed scalar' };
  }
  if (data.resultType !== 'vector' || !Array.isArray(data.result)) return { error: `unexpected result type ${JSON.stringify(data.resultType)}` };
  if (data.result.length === 0) return { error: 'the query returned no sample' };
  if (data.result.length > 1) return { error: `the query returned ${data.result.length} samples; it must return one (aggregate it, e.g. with sum())` };
  const v = (data.result[0] as { value?: unknown }).value;
  if (!Array.isArray(v) || v.length !== 2) return { error: 'a malformed sample' };
  return { value: String(v[1]) };
}
