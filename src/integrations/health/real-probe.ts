import type { HealthProbeConfig, HealthResult } from '../../domain/health.js';
import { runCommandCheck } from './command-check.js';
import type { HealthProbe, HealthTarget } from './probe.js';
import { runPrometheusCheck } from './prometheus-check.js';

/** The real health checks: a shell command, or an instant Prometheus query. */
export const realHealthProbe: HealthProbe = {
  check(probe: HealthProbeConfig, target: HealthTarget, timeoutMs: number): Promise<HealthResult> {
    return probe.kind === 'command' ? runCommandCheck(probe.command, target, timeoutMs) : runPrometheusCheck(probe.baseUrl, probe.query, probe.healthyIf, timeoutMs);
  },
};
