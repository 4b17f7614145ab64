import { describe, expect, it } from 'vitest';
import type { LimiterStatus } from '../../api';
import { budgetView, CHART_MINUTES, chartColumns, hourTotals, hourWords, MINUTE_MS } from './chart-data';

const now = Date.UTC(2026, 10, 26, 12, 30, 15);
const minute = (ago: number) => Math.floor(now / MINUTE_MS) * MINUTE_MS - ago * MINUTE_MS;
const bucket = (ago: number, calls: number, throttled = 0, queue = 0) => ({
  minute_start_ms: minute(ago),
  calls_sent: calls,
  throttled,
  max_queue_depth: queue,
});

describe('chart columns', () => {
  it('always has one point per minute of the last hour, ending with the current minute', () => {
    const cols = chartColumns([], now);
    expect(cols[0]).toHaveLength(CHART_MINUTES);
    expect(cols[0][CHART_MINUTES - 1]).toBe(minute(0) / 1000);
    expect(cols[0][1]! - cols[0][0]!).toBe(60);
    expect(cols[1].every((v) => v === 0), 'an hour with no traffic should draw zeros, not gaps').toBe(true);
  });

  it('puts each reported minute in its place and fills quiet minutes with zero', () => {
    const cols = chartColumns([bucket(0, 7, 1, 3), bucket(5, 2)], now);
    expect(cols[1][CHART_MINUTES - 1]).toBe(7);
    expect(cols[2][CHART_MINUTES - 1]).toBe(3);
    expect(cols[3][CHART_MINUTES - 1]).toBe(1);
    expect(cols[1][CHART_MINUTES - 6]).toBe(2);
    expect(cols[1][CHART_MINUTES - 2]).toBe(0);
  });

  it('ignores minutes outside the hour and keeps the larger figures of a minute reported twice', () => {
    const cols = chartColumns([bucket(61, 100), bucket(-2, 100), bucket(3, 4), bucket(3, 9, 2)], now);
    expect(hourTotals(cols).calls).toBe(9);
    expect(hourTotals(cols).throttled).toBe(2);
  });
});

describe('the hour in words', () => {
  it('says when nothing happened', () => {
    expect(hourWords(hourTotals(chartColumns([], now)))).toBe('No calls in the last hour.');
  });

  it('counts calls, waiting and slow-down answers', () => {
    const words = hourWords(hourTotals(chartColumns([bucket(1, 5, 1, 2), bucket(2, 3)], now)));
    expect(words).toContain('8 calls in the last hour (at most 5 in one minute)');
    expect(words).toContain('up to 2 waited at once');
    expect(words).toContain('1 “slow down” answer');
  });
});

describe('budget meter', () => {
  const status = (left: number, paused: number | null = null): LimiterStatus => ({
    budget_requests: 100,
    budget_per_ms: 10_000,
    catalog_requests: 100,
    catalog_per_ms: 10_000,
    budget_left: left,
    provider_reported_left: null,
    calls_queued: 0,
    calls_in_flight: 0,
    recent_429s: 0,
    recent_429s_window_secs: 3600,
    paused_for_ms: paused,
    daily_max: null,
    daily_remaining: null,
  });

  it('is good with plenty left, a warning when low, bad when used up or paused', () => {
    expect(budgetView(status(80)).tone).toBe('good');
    expect(budgetView(status(10)).tone).toBe('warn');
    expect(budgetView(status(0)).tone).toBe('bad');
    expect(budgetView(status(90, 4_500)).words).toContain('Paused by the tool for 5 s');
  });

  it('never shows more left than the budget or less than nothing', () => {
    expect(budgetView(status(140)).left).toBe(100);
    expect(budgetView(status(-3)).left).toBe(0);
  });
});
