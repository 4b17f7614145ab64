// Shapes a connection's per-minute history into what the chart draws, and the budget into a
// meter: kept apart from rendering so it can be tested.
import type { Bucket, LimiterStatus } from '../../api';

export const MINUTE_MS = 60_000;
/** The chart always spans this many minutes, ending with the current one. */
export const CHART_MINUTES = 60;

/** uPlot's columnar data: x in seconds, then calls sent, largest queue, 429s per minute. */
export type ChartColumns = [number[], number[], number[], number[]];

/**
 * One point per minute for the hour ending with the minute of `nowMs`, oldest first. Minutes
 * the gateway reported nothing for are zero (nothing was sent), never left out, so the line
 * does not jump over quiet minutes; buckets outside the hour are ignored, and a minute reported
 * twice keeps the larger figures.
 */
export function chartColumns(history: readonly Bucket[], nowMs: number): ChartColumns {
  const end = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  const start = end - (CHART_MINUTES - 1) * MINUTE_MS;
  const byMinute = new Map<number, Bucket>();
  for (const b of history) {
    const minute = Math.floor(b.minute_start_ms / MINUTE_MS) * MINUTE_MS;
    if (minute < start || minute > end) continue;
    const prev = byMinute.get(minute);
    byMinute.set(
      minute,
      prev
        ? {
            minute_start_ms: minute,
            calls_sent: Math.max(prev.calls_sent, b.calls_sent),
            throttled: Math.max(prev.throttled, b.throttled),
            max_queue_depth: Math.max(prev.max_queue_depth, b.max_queue_depth),
          }
        : b,
    );
  }
  const cols: ChartColumns = [[], [], [], []];
  for (let m = start; m <= end; m += MINUTE_MS) {
    const b = byMinute.get(m);
    cols[0].push(m / 1000);
    cols[1].push(b ? b.calls_sent : 0);
    cols[2].push(b ? b.max_queue_depth : 0);
    cols[3].push(b ? b.throttled : 0);
  }
  return cols;
}

export type HourTotals = { calls: number; throttled: number; maxQueue: number; busiestMinute: number };

/** The hour in a few numbers: the chart's text alternative. */
export function hourTotals(cols: ChartColumns): HourTotals {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    calls: sum(cols[1]),
    throttled: sum(cols[3]),
    maxQueue: Math.max(0, ...cols[2]),
    busiestMinute: Math.max(0, ...cols[1]),
  };
}

export function hourWords(t: HourTotals): string {
  if (t.calls === 0 && t.throttled === 0) return 'No calls in the last hour.';
  const parts = [`${t.calls} ${t.calls === 1 ? 'call' : 'calls'} in the last hour (at most ${t.busiestMinute} in one minute)`];
  parts.push(t.maxQueue === 0 ? 'none had to wait' : `up to ${t.maxQueue} waited at once`);
  parts.push(t.throttled === 0 ? 'no “slow down” answers' : `${t.throttled} “slow down” ${t.throttled === 1 ? 'answer' : 'answers'}`);
  return `${parts.join(', ')}.`;
}

export type BudgetView = { left: number; of: number; share: number; tone: 'good' | 'warn' | 'bad'; words: string };

/** How much of the budget is left now, for a meter: low is a warning, none or a pause is bad. */
export function budgetView(s: LimiterStatus): BudgetView {
  const of = Math.max(0, s.budget_requests);
  const left = Math.min(Math.max(0, s.budget_left), of);
  const share = of === 0 ? 0 : left / of;
  const paused = s.paused_for_ms !== null && s.paused_for_ms > 0;
  const tone = paused || left === 0 ? 'bad' : share < 0.25 ? 'warn' : 'good';
  const words = paused
    ? `Paused by the tool for ${Math.ceil((s.paused_for_ms ?? 0) / 1000)} s; calls wait until then`
    : left === 0
      ? 'Budget used up: new calls wait for the next window'
      : share < 0.25
        ? 'Budget running low: calls may start to wait'
        : 'Plenty of budget left';
  return { left, of, share, tone, words };
}
