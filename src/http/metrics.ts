import type { Db } from '../engine/db.js';

/** Counters kept in memory; gauges read from the database at scrape time. Prometheus text format. */
export class Metrics {
  private requests = new Map<string, number>();
  private durations = new Map<string, { sum: number; count: number }>();
  private gauges: { name: string; help: string; read: () => number }[] = [];

  /** A gauge kept by another part of the process (read at scrape time). */
  gauge(name: string, help: string, read: () => number): void {
    this.gauges.push({ name, help, read });
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${route}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const d = this.durations.get(`method="${method}",route="${route}"`) ?? { sum: 0, count: 0 };
    d.sum += seconds;
    d.count++;
    this.durations.set(`method="${method}",route="${route}"`, d);
  }

  async render(db: Db): Promise<string> {
    const out: string[] = [];
    out.push('# HELP conductor_http_requests_total HTTP requests by route and status.', '# TYPE conductor_http_requests_total counter');
    for (const [k, v] of this.requests) out.push(`conductor_http_requests_total{${k}} ${v}`);
    out.push('# HELP conductor_http_request_duration_seconds Time to answer HTTP requests.', '# TYPE conductor_http_request_duration_seconds summary');
    for (const [k, v] of this.durations) {
      out.push(`conductor_http_request_duration_seconds_sum{${k}} ${v.sum.toFixed(6)}`);
      out.push(`conductor_http_request_duration_seconds_count{${k}} ${v.count}`);
    }
    const trains = await db.$queryRaw<{ name: string; state: string; n: bigint }[]>`
      SELECT l.name, t.state::text AS state, count(*) AS n FROM train t JOIN line l ON l.id = t.line_id
      WHERE t.state IN ('delivering','verifying','deploying') GROUP BY l.name, t.state`;
    out.push('# HELP conductor_live_trains Live trains by line and state.', '# TYPE conductor_live_trains gauge');
    for (const r of trains) out.push(`conductor_live_trains{line="${r.name}",state="${r.state}"} ${r.n}`);
    const platform = await db.$queryRaw<{ name: string; n: bigint }[]>`
      SELECT l.name, count(c.id) AS n FROM line l LEFT JOIN commit c ON c.line_id = l.id AND c.state = 'platform' GROUP BY l.name`;
    out.push('# HELP conductor_platform_commits Commits waiting on the platform.', '# TYPE conductor_platform_commits gauge');
    for (const r of platform) out.push(`conductor_platform_commits{line="${r.name}"} ${r.n}`);
    const outbox = await db.outboxItem.count({ where: { doneAt: null } });
    out.push('# HELP conductor_outbox_pending Side effects not yet delivered.', '# TYPE conductor_outbox_pending gauge', `conductor_outbox_pending ${outbox}`);
    for (const g of this.gauges) out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name} ${g.read()}`);
    const mem = process.memoryUsage();
    out.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    return out.join('\n') + '\n';
  }
}
