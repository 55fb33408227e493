/**
 * Insights (docs/behaviour.md §7): the period a person or a script asks for,
 * how its figures are grouped and sampled, and durations in words. Pure: the
 * figures themselves are computed in SQL (src/engine/read/insights.ts).
 */

/** The periods the page offers; the API takes any whole number of days from 1 to MAX. */
export const INSIGHT_PERIODS = [7, 30, 90] as const;
export const INSIGHTS_DEFAULT_DAYS = 30;
export const INSIGHTS_MAX_DAYS = 365;

/** `days` from a query string: the default when absent, a sentence when it is not a whole number from 1 to 365. */
export function parseInsightsDays(text: string | null): number | string {
  if (text === null || text.trim() === '') return INSIGHTS_DEFAULT_DAYS;
  const t = text.trim();
  if (!/^[0-9]{1,3}$/.test(t) || Number(t) < 1 || Number(t) > INSIGHTS_MAX_DAYS) return `days: must be a whole number from 1 to ${INSIGHTS_MAX_DAYS}`;
  return Number(t);
}

export interface InsightsGrain {
  /** The trend's buckets (in the line's timezone): days up to a month, weeks beyond. */
  bucket: 'day' | 'week';
  /** How often the platform length is sampled, in hours: about 100 points whatever the period. */
  sampleHours: number;
}

export function insightsGrain(days: number): InsightsGrain {
  const bucket = days <= 31 ? 'day' : 'week';
  // 7 days: every 2 h (84 points); 30: every 6 h (120); 90: every day; 365: every 3 days.
  const sampleHours = Math.max(1, [2, 6, 24, 72].find((h) => (days * 24) / h <= 125) ?? Math.ceil((days * 24) / 125));
  return { bucket, sampleHours };
}

/** The failure signals of a deployed train, in the order the change failure rate looks for them. */
export type FailureSignal = 'rollback' | 'emergency' | 'revert' | 'health';

export const FAILURE_ACTIONS: Record<FailureSignal, string> = {
  rollback: 'line.rollback',
  emergency: 'line.emergency',
  revert: 'commit.revert-requested',
  /** A health-gated deploy whose check tripped (behaviour.md §8). */
  health: 'health.tripped',
};

/** The derail reasons Conductor writes itself, folded into one category each (the rest are people's words). */
export function derailCategory(reason: string | null): string {
  if (reason === null || reason.trim() === '') return '(no reason given)';
  if (/^extended into train #\d+$/.test(reason)) return 'extended';
  if (reason.startsWith('emergency reset:')) return 'emergency reset';
  return reason.trim();
}

/** A duration as people read it: "45 s", "12 min", "3 h 05 min", "2 d 4 h"; "–" when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A rate as a percentage with at most one decimal: "12.5 %"; "–" when there is nothing to divide. */
export function formatRate(rate: number | null): string {
  if (rate === null) return '–';
  return `${Math.round(rate * 1000) / 10} %`;
}
