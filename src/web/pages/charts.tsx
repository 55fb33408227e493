/**
 * Charts drawn on the server as SVG (the insights page): readable without
 * JavaScript, scaled by the browser (viewBox, width 100%), coloured by the
 * stylesheet's variables so they follow light and dark. Each is one image to
 * assistive technology (`role="img"`, its `<title>` and `<desc>`); the page
 * shows the same numbers in a table beside it.
 */

import type { ComponentChildren } from 'preact';

const W = 640;
const H = 200;
const PAD = { left: 58, right: 14, top: 14, bottom: 30 };

interface Frame {
  /** Unique on the page: names the title and description for aria-labelledby. */
  id: string;
  title: string;
  desc: string;
}

function Svg({ id, title, desc, width = W, height = H, children }: Frame & { width?: number; height?: number; children: ComponentChildren }) {
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} preserveAspectRatio="xMidYMid meet">
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{desc}</desc>
      {children}
    </svg>
  );
}

/** A round upper bound for the axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 5, 10].find((m) => m * p >= max) ?? 10) * p;
}

function YAxis({ max, format, height }: { max: number; format: (v: number) => string; height: number }) {
  const plot = height - PAD.top - PAD.bottom;
  return (
    <g class="axis">
      {[0, 0.5, 1].map((f) => {
        const y = PAD.top + plot * (1 - f);
        return (
          <g key={f}>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} />
            <text x={PAD.left - 6} y={y + 5} text-anchor="end">
              {format(max * f)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

/** A duration on an axis, short enough for its margin: "45 s", "12 min", "5.5 h", "3.2 d". */
export function axisDuration(seconds: number): string {
  if (seconds === 0) return '0';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 360) / 10} h`;
  return `${Math.round(seconds / 8640) / 10} d`;
}

/** Labels under the x axis: the first, the last and a few between (never crowded). */
function XLabels({ labels, x, height }: { labels: string[]; x: (i: number) => number; height: number }) {
  const every = Math.max(1, Math.ceil(labels.length / 6));
  return (
    <g class="axis">
      {labels.map((l, i) =>
        i % every === 0 || i === labels.length - 1 ? (
          <text key={l} x={x(i)} y={height - 8} text-anchor={i === 0 ? 'start' : i === labels.length - 1 ? 'end' : 'middle'}>
            {l}
          </text>
        ) : null,
      )}
    </g>
  );
}

/** Vertical bars, one per label (deployments per day or week). */
export function BarChart({ id, title, desc, labels, values, format = String }: Frame & { labels: string[]; values: number[]; format?: (v: number) => string }) {
  const max = niceMax(Math.max(0, ...values));
  const plot = { w: W - PAD.left - PAD.right, h: H - PAD.top - PAD.bottom };
  const slot = plot.w / Math.max(1, values.length);
  const barW = Math.max(1, slot * 0.7);
  return (
    <Svg id={id} title={title} desc={desc}>
      <YAxis max={max} format={format} height={H} />
      {values.map((v, i) => {
        const h = (v / max) * plot.h;
        return <rect key={labels[i]} class="bar" x={PAD.left + i * slot + (slot - barW) / 2} y={PAD.top + plot.h - h} width={barW} height={h} />;
      })}
      <XLabels labels={labels} x={(i) => PAD.left + i * slot + slot / 2} height={H} />
    </Svg>
  );
}

export interface Series {
  name: string;
  /** A CSS class of the line (`series-a`, `series-b`): the colour and the dash come from the stylesheet. */
  className: string;
  values: (number | null)[];
}

/** Lines over the same labels (lead time p50 and p90 per bucket, platform length); gaps where a value is null. */
export function LineChart({ id, title, desc, labels, series, format = String }: Frame & { labels: string[]; series: Series[]; format?: (v: number) => string }) {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = niceMax(Math.max(0, ...all));
  const plot = { w: W - PAD.left - PAD.right, h: H - PAD.top - PAD.bottom };
  const x = (i: number) => PAD.left + (labels.length <= 1 ? plot.w / 2 : (i / (labels.length - 1)) * plot.w);
  const y = (v: number) => PAD.top + plot.h - (v / max) * plot.h;
  return (
    <Svg id={id} title={title} desc={desc}>
      <YAxis max={max} format={format} height={H} />
      {series.map((s) => {
        // One path with a move (M) after every gap, and a dot for a lone point.
        let d = '';
        const dots: [number, number][] = [];
        s.values.forEach((v, i) => {
          if (v === null) return;
          const gapBefore = i === 0 || s.values[i - 1] === null;
          d += `${gapBefore ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
          if (gapBefore && (i === s.values.length - 1 || s.values[i + 1] === null)) dots.push([x(i), y(v)]);
        });
        return (
          <g key={s.name} class={`series ${s.className}`}>
            {d && <path d={d.trim()} />}
            {dots.map(([cx, cy]) => (
              <circle key={`${cx}`} cx={cx} cy={cy} r={3} />
            ))}
          </g>
        );
      })}
      <XLabels labels={labels} x={x} height={H} />
    </Svg>
  );
}

/** Horizontal bars, two per row (p50 solid, p90 lighter behind it): where the time goes. */
export function RangeBars({ id, title, desc, rows, format }: Frame & { rows: { label: string; p50: number | null; p90: number | null }[]; format: (v: number) => string }) {
  // Narrower than the other charts: on a phone its words stay as large as theirs.
  const width = 440;
  const rowH = 34;
  const height = PAD.top + rows.length * rowH + 8;
  const left = 150;
  const max = niceMax(Math.max(0, ...rows.flatMap((r) => [r.p50 ?? 0, r.p90 ?? 0])));
  const w = (v: number | null) => ((v ?? 0) / max) * (width - left - PAD.right - 70);
  return (
    <Svg id={id} title={title} desc={desc} width={width} height={height}>
      {rows.map((r, i) => {
        const y = PAD.top + i * rowH;
        return (
          <g key={r.label}>
            <text class="label" x={left - 8} y={y + 18} text-anchor="end">
              {r.label}
            </text>
            <rect class="bar bar-p90" x={left} y={y + 4} width={w(r.p90)} height={20} />
            <rect class="bar" x={left} y={y + 4} width={w(r.p50)} height={20} />
            <text class="value" x={left + w(r.p90) + 6} y={y + 18}>
              {r.p50 === null ? 'no data' : format(r.p50)}
            </text>
          </g>
        );
      })}
    </Svg>
  );
}
