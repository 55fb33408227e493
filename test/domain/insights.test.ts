// The pure rules of insights (docs/behaviour.md §7): the period, the grouping
// and sampling, derail categories, durations and rates in words.
import { describe, expect, it } from 'vitest';
import { derailCategory, formatDuration, formatRate, insightsGrain, parseInsightsDays } from '../../src/domain/insights.js';

describe('insights rules', () => {
  it.each([
    [null, 30],
    ['', 30],
    [' 7 ', 7],
    ['90', 90],
    ['365', 365],
    ['1', 1],
    ['0', 'days: must be a whole number from 1 to 365'],
    ['366', 'days: must be a whole number from 1 to 365'],
    ['7.5', 'days: must be a whole number from 1 to 365'],
    ['-7', 'days: must be a whole number from 1 to 365'],
    ['1e2', 'days: must be a whole number from 1 to 365'],
  ])('days %j → %j', (text, expected) => {
    expect(parseInsightsDays(text)).toBe(expected);
  });

  it.each([
    [7, 'day', 2],
    [30, 'day', 6],
    [31, 'day', 6],
    [90, 'week', 24],
    [365, 'week', 72],
    [1, 'day', 2],
  ])('%i days: per %s, platform every %i h', (days, bucket, sampleHours) => {
    expect(insightsGrain(days)).toEqual({ bucket, sampleHours });
  });

  it.each([
    ['flaky tests', 'flaky tests'],
    ['extended into train #12', 'extended'],
    ['emergency reset: bad config', 'emergency reset'],
    [null, '(no reason given)'],
    ['  ', '(no reason given)'],
  ])('derail reason %j → %j', (reason, category) => {
    expect(derailCategory(reason)).toBe(category);
  });

  it.each([
    [null, '–'],
    [0, '0 s'],
    [45.4, '45 s'],
    [600, '10 min'],
    [6600, '1 h 50 min'],
    [10_500, '2 h 55 min'],
    [3 * 86_400 + 4 * 3600, '3 d 4 h'],
  ])('duration %j → %j', (seconds, words) => {
    expect(formatDuration(seconds)).toBe(words);
  });

  it('rates as percentages', () => {
    expect([formatRate(null), formatRate(0), formatRate(0.75), formatRate(0.0554)]).toEqual(['–', '0 %', '75 %', '5.5 %']);
  });
});
