/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests of GET /metrics.
 * Written here rather than taken from npm: parse-prometheus-text-format (the one parser there)
 * is lenient by design (it accepts duplicate series and HELP/TYPE lines, and does not check
 * histograms). Every rule below throws with the line number when broken:
 *
 * - a line is empty, `# HELP name text`, `# TYPE name type`, another `#` comment, or a sample
 *   `name{label="value",…} value [timestamp]`; names and label names as the format defines them;
 *   label values escape only `\\`, `\"` and `\n`; HELP text only `\\` and `\n`;
 * - values as Go's strconv.ParseFloat reads them (Prometheus' own parser): decimals, exponents,
 *   and NaN / Inf / +Inf / -Inf in any case (prom-client writes `Nan`);
 * - HELP and TYPE at most once per family, TYPE before its samples, a family's lines together;
 * - no series (name and label set) twice; no label name twice in a sample; no `__` label;
 * - histograms: only `_bucket` (with `le`), `_sum` and `_count`; buckets cumulative in `le`
 *   order, ending with `le="+Inf"` equal to `_count`; summaries: `quantile` samples, `_sum`, `_count`.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?(inf|infinity)|nan)$/i;

export function parseFloatGo(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text);
  if (!SPECIAL.test(text)) return undefined;
  if (/nan/i.test(text)) return Number.NaN;
  return text.startsWith('-') ? -Infinity : Infinity;
}

export class PromText {
  readonly families = new Map<string, Family>();

  /** The family a sample name belongs to (`x_bucket` of histogram `x` belongs to `x`). */
  familyOf(sample: string): Family | undefined {
    for (const suffix of ['', '_bucket', '_sum', '_count']) {
      if (suffix && !sample.endsWith(suffix)) continue;
      const f = this.families.get(sample.slice(0, sample.length - suffix.length));
      if (f && (suffix === '' || f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
    }
    return undefined;
  }

  /** Samples named `name` whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    const f = this.familyOf(name);
    return (f?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The value of the one sample named `name` with exactly these labels; undefined when there is none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const key = seriesKey(name, labels);
    return this.samples(name, labels).find((s) => seriesKey(s.name, s.labels) === key)?.value;
  }

  /** The sum over the samples named `name` whose labels include `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((a, s) => a + s.value, 0);
  }
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return JSON.stringify([name, Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

export function parsePromText(text: string): PromText {
  const out = new PromText();
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const series = new Set<string>();
  const finished = new Set<string>();
  const started = new Set<string>();
  let current: string | undefined;
  const enter = (family: string, at: number) => {
    if (family === current) return;
    if (current) finished.add(current);
    if (finished.has(family)) throw new Error(`line ${at}: the lines of ${family} are not together`);
    current = family;
  };
  const family = (name: string): Family => {
    let f = out.families.get(name);
    if (!f) {
      f = { name, type: 'untyped', samples: [] };
      out.families.set(name, f);
    }
    return f;
  };

  lines.forEach((line, i) => {
    const at = i + 1;
    const fail = (why: string): never => {
      throw new Error(`line ${at}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) {
        if (/^#\s*(HELP|TYPE)\b/.test(line)) fail('malformed HELP or TYPE line');
        return; // another comment
      }
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) fail('bad metric name');
      enter(name!, at);
      const f = family(name!);
      if (kind === 'HELP') {
        if (f.help !== undefined) fail(`second HELP for ${name}`);
        f.help = unescapeText(rest, false, fail);
      } else {
        if (started.has(name!)) fail(`TYPE for ${name} after its samples`);
        if ((f as { typed?: boolean }).typed) fail(`second TYPE for ${name}`);
        if (!TYPES.has(rest)) fail(`unknown type ${JSON.stringify(rest)}`);
        f.type = rest as Family['type'];
        (f as { typed?: boolean }).typed = true;
      }
      return;
    }
    const sample = parseSample(line, fail);
    const f = out.familyOf(sample.name) ?? family(sample.name);
    enter(f.name, at);
    started.add(f.name);
    const key = seriesKey(sample.name, sample.labels);
    if (series.has(key)) fail('the same series twice');
    series.add(key);
    if (f.type === 'histogram' && sample.name === `${f.name}_bucket` && sample.labels.le === undefined) fail('a histogram bucket without le');
    if (f.type === 'summary' && sample.name === f.name && sample.labels.quantile === undefined) fail('a summary sample without quantile');
    if (f.type === 'histogram' && sample.name === f.name) fail('a histogram sample without _bucket, _sum or _count');
    if ((f.type === 'counter' || f.type === 'gauge') && sample.name !== f.name) fail(`a ${f.type} sample named other than its family`);
    f.samples.push(sample);
  });

  for (const f of out.families.values()) {
    delete (f as { typed?: boolean }).typed;
    if (f.type === 'histogram') checkHistogram(f);
  }
  return out;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: { le: number; value: number }[]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith('_bucket')) {
      const bound = parseFloatGo(le!);
      if (bound === undefined || Number.isNaN(bound)) throw new Error(`${f.name}: bad le ${JSON.stringify(le)}`);
      g.buckets.push({ le: bound, value: s.value });
    } else if (s.name.endsWith('_count')) g.count = s.value;
    else g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a.le - b.le);
    if (sorted.at(-1)?.le !== Infinity) throw new Error(`${f.name} ${key}: no le="+Inf" bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`${f.name} ${key}: buckets are not cumulative`);
    if (g.count === undefined || g.sum === undefined) throw new Error(`${f.name} ${key}: _count or _sum missing`);
    if (g.count !== sorted.at(-1)!.value) throw new Error(`${f.name} ${key}: _count ${g.count} differs from the +Inf bucket ${sorted.at(-1)!.value}`);
  }
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) fail('a sample must start with a metric name');
  const name = m![1]!;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!ln) fail(`bad label name at column ${i + 1}`);
      const label = ln![0];
      if (!LABEL_NAME.test(label) || label.startsWith('__')) fail(`reserved or bad label name ${label}`);
      if (label in labels) fail(`label ${label} twice`);
      i += label.length;
      if (line[i] !== '=' || line[i + 1] !== '"') fail(`expected =" after ${label}`);
      i += 2;
      let raw = '';
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') {
          raw += line.slice(i, i + 2);
          i += 2;
        } else raw += line[i++];
      }
      if (line[i] !== '"') fail(`unterminated value of ${label}`);
      i++;
      labels[label] = unescapeText(raw, true, fail);
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail(`expected , or } after ${label}`);
    }
    i++;
  }
  if (line[i] !== ' ') fail('expected one space before the value');
  const parts = line.slice(i + 1).split(' ');
  if (parts.length > 2 || parts.some((p) => p === '')) fail('expected a value and at most a timestamp, one space apart');
  const value = parseFloatGo(parts[0]!);
  if (value === undefined) fail(`bad value ${JSON.stringify(parts[0])}`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail('bad timestamp');
  return { name, labels, value: value! };
}

/** Label values escape `\\`, `\"`, `\n`; HELP text `\\` and `\n` (a bare `"` is fine there). Anything else after `\` is an error. */
function unescapeText(raw: string, labelValue: boolean, fail: (why: string) => never): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\') {
      if (c === '\n') fail('a raw newline');
      out += c;
      continue;
    }
    const next = raw[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && labelValue) out += '"';
    else fail(`bad escape \\${next ?? ''}`);
  }
  return out;
}
