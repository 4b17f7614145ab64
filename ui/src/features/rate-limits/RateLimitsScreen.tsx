import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, toFailure, type ApiFailure, type ConnectionLimits } from '../../api';
import { EmptyState } from '../../components/EmptyState';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { routeHref } from '../../routes';
import { limitFacts, windowWords } from '../connections/connection-logic';
import { budgetView, chartColumns, hourTotals, hourWords } from './chart-data';
import { LimitsChart } from './LimitsChart';

/** The figures refresh this often while the screen is open. */
const POLL_MS = 3_000;

export function RateLimitsScreen() {
  const [all, setAll] = useState<ConnectionLimits[] | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [updatedAt, setUpdatedAt] = useState<number>(() => Date.now());
  const [retry, setRetry] = useState(0);
  const [names, setNames] = useState<Map<string, string>>(new Map());

  // Tool names for the cards (the figures name the catalog id); ids stay shown if this fails.
  useEffect(() => {
    let live = true;
    api.providers().then(
      (c) => {
        if (live) setNames(new Map(c.providers.map((p) => [p.id, p.name])));
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, []);

  // One request at a time, every few seconds, while the screen is open.
  useEffect(() => {
    let stopped = false;
    let timer = 0;
    const tick = () => {
      api
        .rateLimits()
        .then(
          (list) => {
            if (stopped) return;
            setAll(list);
            setFailure(null);
            setUpdatedAt(Date.now());
          },
          (reason: unknown) => {
            if (!stopped) setFailure(toFailure(reason));
          },
        )
        .finally(() => {
          if (!stopped) timer = window.setTimeout(tick, POLL_MS);
        });
    };
    tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [retry]);

  const sorted = useMemo(() => (all ? [...all].sort((a, b) => a.label.localeCompare(b.label) || a.connection.localeCompare(b.connection)) : []), [all]);

  return (
    <>
      <ScreenHeader
        title="Rate limits"
        subtitle="Each tool allows only so many calls. Switchboard paces every agent below that, so nothing gets blocked."
      />
      {failure && <FailureNotice failure={failure} onRetry={() => setRetry((r) => r + 1)} testId="limits-failure" />}
      {all === null && !failure && <p class="muted">Reading the live figures…</p>}
      {all !== null && all.length === 0 && (
        <EmptyState title="Nothing connected yet." testId="limits-empty">
          <p>
            Connect a tool on the <a href={routeHref('connections')}>Connections</a> screen; its budget and a live chart of
            its calls then show here.
          </p>
        </EmptyState>
      )}
      {sorted.length > 0 && (
        <p class="muted summary-line" data-testid="limits-updated" aria-live="off">
          Live: updates every {POLL_MS / 1000} seconds (last at {new Date(updatedAt).toLocaleTimeString()}).
        </p>
      )}
      {sorted.map((c) => (
        <ConnectionCard key={c.connection} limits={c} now={updatedAt} providerName={names.get(c.provider) ?? c.provider} />
      ))}
    </>
  );
}

function ConnectionCard({ limits: c, now, providerName }: { limits: ConnectionLimits; now: number; providerName: string }) {
  const latest = c.history.reduce((m, b) => Math.max(m, b.minute_start_ms), 0);
  const columns = useMemo(() => chartColumns(c.history, Math.max(now, latest)), [c.history, now, latest]);
  const totals = hourTotals(columns);
  const budget = budgetView(c.status);
  const facts = limitFacts(c.status);
  const titleId = `limits-${c.connection}`;
  const lowered = c.status.budget_requests < c.status.catalog_requests;
  return (
    <section
      class="card panel limits-card"
      aria-labelledby={titleId}
      data-testid="limits-card"
      data-connection={c.connection}
      data-calls-hour={totals.calls}
    >
      <div class="limits-head">
        <div>
          <h2 id={titleId} class="limits-title">
            {c.label}
          </h2>
          <p class="muted">
            {providerName} · {c.status.budget_requests} calls per {windowWords(c.status.budget_per_ms)}
            {lowered ? ` (lowered from ${c.status.catalog_requests} because the tool reported less)` : ''}
          </p>
        </div>
        <div class="budget">
          <label for={`${titleId}-meter`}>Budget left now</label>
          <div class="budget-row">
            <meter
              id={`${titleId}-meter`}
              min={0}
              max={Math.max(1, budget.of)}
              low={Math.max(1, budget.of) * 0.25}
              high={Math.max(1, budget.of) * 0.6}
              optimum={Math.max(1, budget.of)}
              value={budget.left}
              data-testid="limits-budget"
            />
            <strong>
              {budget.left} of {budget.of}
            </strong>
          </div>
          <span class={`tone-text-${budget.tone}`} data-testid="limits-budget-words">
            {budget.words}
          </span>
        </div>
      </div>
      <LimitsChart columns={columns} title={`${c.label}, the last hour: ${hourWords(totals)}`} />
      <p class="field-hint" data-testid="limits-hour">
        {hourWords(totals)} Right now: {facts.queued}; {facts.throttled}.
        {c.status.daily_remaining !== null && c.status.daily_max !== null
          ? ` ${c.status.daily_remaining} of ${c.status.daily_max} calls left today.`
          : ''}
      </p>
    </section>
  );
}
