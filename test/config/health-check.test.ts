import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, type FileConfig, readConfigFile } from '../../src/config/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'conductor-health-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(extra: string): Promise<FileConfig> {
  const file = path.join(dir, 'conductor.yml');
  const keys = extra
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `    ${l}`)
    .join('\n');
  await writeFile(file, `lines:\n  - name: web\n    repo: /tmp/web.git\n    build: {command: make}\n    deploy: {command: make deploy}\n${keys}\n`);
  return readConfigFile({ path: file, displayName: 'conductor.yml', integrations: { jenkins: false, jira: false } });
}

async function problems(extra: string): Promise<string[]> {
  try {
    await load(extra);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('conductor.yml: healthCheck (behaviour.md §8)', () => {
  it('reads a command check with the watch defaults', async () => {
    const c = await load('healthCheck: {command: ./healthy.sh}');
    expect(c.lines[0]!.healthCheck).toEqual({
      probe: { kind: 'command', command: './healthy.sh' },
      intervalSeconds: 30,
      soakMinutes: 15,
      failuresToTrip: 3,
      autoRollback: false,
    });
  });

  it('reads a Prometheus check, its comparison and the line keys', async () => {
    const c = await load(`
healthCheck: {prometheus: "http://prom.internal:9090/", query: "sum(rate(errors[5m]))", healthyIf: "<= 0.01"}
intervalSeconds: 10
soakMinutes: 5
failuresToTrip: 2
autoRollback: true`);
    expect(c.lines[0]!.healthCheck).toEqual({
      probe: { kind: 'prometheus', baseUrl: 'http://prom.internal:9090', query: 'sum(rate(errors[5m]))', healthyIf: { op: '<=', threshold: 0.01 } },
      intervalSeconds: 10,
      soakMinutes: 5,
      failuresToTrip: 2,
      autoRollback: true,
    });
  });

  it('is null when the line has none', async () => {
    expect((await load('')).lines[0]!.healthCheck).toBeNull();
  });

  it('rejects a check with both kinds, or neither', async () => {
    expect(await problems('healthCheck: {command: x, prometheus: "http://p:9090", query: up, healthyIf: "> 0"}')).toEqual([
      'conductor.yml: lines[0].healthCheck: set either command or prometheus (with query and healthyIf), not both (also set: prometheus, query, healthyIf)',
    ]);
    expect(await problems('healthCheck: {}')).toEqual(['conductor.yml: lines[0].healthCheck: missing: expected command: <shell command> or prometheus: <base URL> with query and healthyIf']);
  });

  it('names what a Prometheus check misses, a bad URL and a bad comparison', async () => {
    expect(await problems('healthCheck: {prometheus: "http://p:9090"}')).toEqual([
      'conductor.yml: lines[0].healthCheck.query: missing: a prometheus check needs a PromQL query',
      'conductor.yml: lines[0].healthCheck.healthyIf: missing: a prometheus check needs healthyIf, a comparison such as "< 0.01"',
    ]);
    expect(await problems('healthCheck: {prometheus: "ftp://p", query: up, healthyIf: "=< 1"}')).toEqual([
      'conductor.yml: lines[0].healthCheck.prometheus: expected an http(s) URL such as http://prometheus:9090, got "ftp://p"',
      'conductor.yml: lines[0].healthCheck.healthyIf: expected a comparison such as "< 0.01" (one of <= >= == != < > and a number), got "=< 1"',
    ]);
    expect(await problems('healthCheck: {prometheus: "http://p:9090", query: up, healthyIf: "< abc"}')).toHaveLength(1);
  });

  it('rejects unknown keys in the check with a hint', async () => {
    expect(await problems('healthCheck: {comand: x}')).toContain('conductor.yml: lines[0].healthCheck.comand: unknown key (did you mean "command"?)');
  });

  it('rejects bad watch keys', async () => {
    expect(await problems('healthCheck: {command: x}\nintervalSeconds: 0\nsoakMinutes: -1\nfailuresToTrip: 1.5\nautoRollback: "yes"')).toEqual([
      'conductor.yml: lines[0].intervalSeconds: expected a whole number of seconds from 1 to 86400, got 0',
      'conductor.yml: lines[0].soakMinutes: expected a number of minutes greater than 0 and at most 10080, got -1',
      'conductor.yml: lines[0].failuresToTrip: expected a whole number from 1 to 1000, got 1.5',
      'conductor.yml: lines[0].autoRollback: expected true or false, got "yes"',
    ]);
  });

  it('rejects the watch keys without a healthCheck', async () => {
    expect(await problems('soakMinutes: 5\nautoRollback: true')).toEqual([
      'conductor.yml: lines[0].soakMinutes: only applies to a health check: set healthCheck on line "web", or remove soakMinutes',
      'conductor.yml: lines[0].autoRollback: only applies to a health check: set healthCheck on line "web", or remove autoRollback',
    ]);
  });
});

describe('conductor.yml: bisect and bisectParallel (behaviour.md §8)', () => {
  it('defaults to on, two builds at once', async () => {
    const c = await load('');
    expect(c.lines[0]).toMatchObject({ bisect: true, bisectParallel: 2 });
  });

  it('reads them', async () => {
    const c = await load('bisect: false\nbisectParallel: 4');
    expect(c.lines[0]).toMatchObject({ bisect: false, bisectParallel: 4 });
  });

  it('rejects bad values', async () => {
    expect(await problems('bisect: "yes"\nbisectParallel: 0')).toEqual([
      'conductor.yml: lines[0].bisect: expected true or false, got "yes"',
      'conductor.yml: lines[0].bisectParallel: expected a whole number from 1 to 8, got 0',
    ]);
    expect(await problems('bisectParallel: 9')).toEqual(['conductor.yml: lines[0].bisectParallel: expected a whole number from 1 to 8, got 9']);
    expect(await problems('bisectParalel: 2')).toEqual(['conductor.yml: lines[0].bisectParalel: unknown key (did you mean "bisectParallel"?)']);
  });
});
