import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ActorKind, type ApiFailure, type AuditRow } from '../../api';
import { useLive } from '../../lib/useLive';
import { routeParam } from '../../routes';
import { AuditChain } from './AuditChain';
import { ExportAudit } from './ExportAudit';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { formatCount } from '../../lib/format';
import { useDebounced } from '../../lib/useDebounced';
import { AuditDetail } from './AuditDetail';
import { AuditTable } from './AuditTable';
import {
  ACTOR_KINDS,
  collectDecisions,
  collectValues,
  mergeRows,
  parseActorKind,
  parseTier,
  parseTimeRange,
  sinceFor,
  TIERS,
  TIME_RANGES,
  type TierFilter,
  type TimeRangeId,
} from './audit-logic';
import { useVerifyChain, VerifyButton, VerifyResult } from './VerifyChain';

const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 300;
/** New rows arrive as live events; the first page is re-read at most this often. */
const LIVE_REFRESH_MS = 500;

type ListState = {
  rows: AuditRow[];
  nextBeforeId: number | null;
  loading: 'first' | 'more' | null;
  failure: ApiFailure | null;
  /** True once the first page for the current filters has arrived. */
  loaded: boolean;
  /** The search text the shown rows answer (lets tests tell a settled list from a pending one). */
  shownText: string;
};

const INITIAL: ListState = { rows: [], nextBeforeId: null, loading: 'first', failure: null, loaded: false, shownText: '' };

export function AuditScreen() {
  const [text, setText] = useState('');
  const [actorKind, setActorKind] = useState<ActorKind | null>(null);
  const [decision, setDecision] = useState('');
  const [agent, setAgent] = useState('');
  const [connection, setConnection] = useState('');
  const [tier, setTier] = useState<TierFilter | null>(null);
  const [outcome, setOutcome] = useState('');
  const [range, setRange] = useState<TimeRangeId>('any');
  const debouncedText = useDebounced(text.trim(), SEARCH_DEBOUNCE_MS);
  const debouncedDecision = useDebounced(decision.trim(), SEARCH_DEBOUNCE_MS);
  const debouncedAgent = useDebounced(agent.trim(), SEARCH_DEBOUNCE_MS);
  const debouncedConnection = useDebounced(connection.trim(), SEARCH_DEBOUNCE_MS);
  const debouncedOutcome = useDebounced(outcome.trim(), SEARCH_DEBOUNCE_MS);
  const [chainId, setChainId] = useState<string | null>(() => routeParam(window.location.hash, 'chain'));
  const [suggest, setSuggest] = useState<{ agents: string[]; connections: string[]; outcomes: string[] }>({
    agents: [],
    connections: [],
    outcomes: [],
  });

  const [list, setList] = useState<ListState>(INITIAL);
  const [reloadToken, setReloadToken] = useState(0);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [decisions, setDecisions] = useState<string[]>([]);
  const [now, setNow] = useState(() => Date.now());
  const seq = useRef(0);
  const verify = useVerifyChain();

  // The time range is fixed when the filters change (a live refresh keeps the same bound).
  const sinceMs = useMemo(() => sinceFor(range, Date.now()), [range]);
  const filters = {
    text: debouncedText,
    actor_kind: actorKind,
    decision: debouncedDecision,
    agent: debouncedAgent,
    connection: debouncedConnection,
    tier,
    outcome: debouncedOutcome,
    since_ms: range === 'any' ? null : sinceMs,
  };
  const filtersActive =
    debouncedText !== '' ||
    actorKind !== null ||
    debouncedDecision !== '' ||
    debouncedAgent !== '' ||
    debouncedConnection !== '' ||
    tier !== null ||
    debouncedOutcome !== '' ||
    range !== 'any';
  const filterKey = [debouncedText, actorKind, debouncedDecision, debouncedAgent, debouncedConnection, tier, debouncedOutcome, range, sinceMs].join('|');
  const pending =
    text.trim() !== debouncedText ||
    decision.trim() !== debouncedDecision ||
    agent.trim() !== debouncedAgent ||
    connection.trim() !== debouncedConnection ||
    outcome.trim() !== debouncedOutcome;

  const learn = (rows: readonly AuditRow[]) => {
    setDecisions((known) => collectDecisions(known, rows));
    setSuggest((s) => ({
      agents: collectValues(s.agents, rows, (r) => (r.actor_kind === 'agent' ? r.actor_id : null)),
      connections: collectValues(s.connections, rows, (r) => r.connection_id),
      outcomes: collectValues(s.outcomes, rows, (r) => r.outcome),
    }));
  };

  // First page whenever the (debounced) filters change or the user asks to refresh.
  useEffect(() => {
    const mine = ++seq.current;
    setList((prev) => ({ ...prev, loading: 'first', failure: null }));
    api.auditList({ ...filters, limit: PAGE_SIZE }).then(
      (page) => {
        if (mine !== seq.current) return;
        const rows = mergeRows(page.rows, []);
        setList({ rows, nextBeforeId: page.next_before_id, loading: null, failure: null, loaded: true, shownText: filters.text });
        learn(rows);
        setNow(Date.now());
      },
      (reason: unknown) => {
        if (mine !== seq.current) return;
        setList({ rows: [], nextBeforeId: null, loading: null, failure: toFailure(reason), loaded: false, shownText: filters.text });
      },
    );
    // `filters` is rebuilt on every render; its parts below are the real dependencies.
  }, [filterKey, reloadToken]);

  // New rows appear as they are committed: the first page is re-read (merged with the older
  // pages already shown), at most every LIVE_REFRESH_MS.
  const liveTimer = useRef<number | undefined>(undefined);
  const liveNewest = useRef(0);
  liveNewest.current = list.rows[0]?.id ?? 0;
  useLive(['audit'], () => {
    if (liveTimer.current !== undefined) return;
    liveTimer.current = window.setTimeout(() => {
      liveTimer.current = undefined;
      const mine = ++seq.current;
      api.auditList({ ...filters, limit: PAGE_SIZE }).then(
        (page) => {
          if (mine !== seq.current) return;
          const fresh = page.rows.filter((r) => r.id > liveNewest.current);
          if (fresh.length === 0) return;
          setList((prev) => ({ ...prev, rows: mergeRows(prev.rows, fresh) }));
          learn(fresh);
          setNow(Date.now());
        },
        () => {},
      );
    }, LIVE_REFRESH_MS);
  });
  useEffect(() => () => window.clearTimeout(liveTimer.current), []);

  // `#/audit?chain=ID` (from Approvals) opens that chain.
  useEffect(() => {
    const onHash = () => setChainId(routeParam(window.location.hash, 'chain'));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const loadOlder = useCallback(() => {
    if (list.nextBeforeId === null || list.loading) return;
    const mine = ++seq.current;
    const before = list.nextBeforeId;
    setList((prev) => ({ ...prev, loading: 'more', failure: null }));
    api.auditList({ ...filters, before_id: before, limit: PAGE_SIZE }).then(
      (page) => {
        if (mine !== seq.current) return;
        setList((prev) => ({
          ...prev,
          rows: mergeRows(prev.rows, page.rows),
          nextBeforeId: page.next_before_id,
          loading: null,
        }));
        learn(page.rows);
      },
      (reason: unknown) => {
        if (mine !== seq.current) return;
        setList((prev) => ({ ...prev, loading: null, failure: toFailure(reason) }));
      },
    );
  }, [list.nextBeforeId, list.loading, filterKey]);

  // Relative times ("3 min ago") stay fresh.
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(timer);
  }, []);

  // Escape closes the detail panel or the chain.
  useEffect(() => {
    if (selectedId === null && chainId === null) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setSelectedId(null);
        closeChain();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selectedId, chainId]);

  const refresh = () => setReloadToken((t) => t + 1);
  const clearFilters = () => {
    setText('');
    setActorKind(null);
    setDecision('');
    setAgent('');
    setConnection('');
    setTier(null);
    setOutcome('');
    setRange('any');
  };
  const openChain = (id: string) => {
    setSelectedId(null);
    setChainId(id);
  };
  const closeChain = () => {
    setChainId(null);
    if (routeParam(window.location.hash, 'chain') !== null) history.replaceState(null, '', '#/audit');
  };
  const showRow = (rowId: number) => {
    const known = list.rows.some((r) => r.id === rowId);
    if (!known) {
      // Not on the loaded pages: show it by id.
      api.auditList({ before_id: rowId + 1, limit: 1 }).then(
        (page) => page.rows[0] && setList((prev) => ({ ...prev, rows: mergeRows(prev.rows, page.rows) })),
        () => {},
      );
    }
    setChainId(null);
    setSelectedId(rowId);
  };

  const selected = selectedId === null ? null : (list.rows.find((r) => r.id === selectedId) ?? null);

  return (
    <>
      <ScreenHeader
        title="Audit log"
        subtitle="Every action, decision and result, hash-chained so any edit or deletion shows. Newest first."
      >
        <button type="button" class="button" onClick={refresh} disabled={list.loading !== null}>
          Refresh
        </button>
        <VerifyButton state={verify.state} onVerify={verify.run} />
        <ExportAudit />
      </ScreenHeader>

      <VerifyResult state={verify.state} />

      <form class="toolbar" role="search" aria-label="Filter audit rows" onSubmit={(e) => e.preventDefault()}>
        <div class="field field-grow">
          <label for="audit-search">Search</label>
          <input
            id="audit-search"
            type="search"
            data-testid="audit-search"
            placeholder="Action, actor, connection, summary…"
            autocomplete="off"
            spellcheck={false}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="audit-actor-kind">Actor</label>
          <select
            id="audit-actor-kind"
            data-testid="audit-actor-kind"
            value={actorKind ?? ''}
            onChange={(e) => setActorKind(parseActorKind(e.currentTarget.value))}
          >
            <option value="">All actors</option>
            {ACTOR_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <SuggestField id="audit-decision" label="Decision" listId="audit-decisions" placeholder="Any decision" value={decision} onChange={setDecision} options={decisions} />
        <SuggestField id="audit-agent" label="Agent" listId="audit-agents" placeholder="Any agent" value={agent} onChange={setAgent} options={suggest.agents} />
        <SuggestField id="audit-connection" label="Connection" listId="audit-connections" placeholder="Any connection" value={connection} onChange={setConnection} options={suggest.connections} />
        <div class="field">
          <label for="audit-tier">Tier</label>
          <select id="audit-tier" data-testid="audit-tier" value={tier ?? ''} onChange={(e) => setTier(parseTier(e.currentTarget.value))}>
            <option value="">Any tier</option>
            {TIERS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <SuggestField id="audit-outcome" label="Outcome" listId="audit-outcomes" placeholder="Any outcome" value={outcome} onChange={setOutcome} options={suggest.outcomes} />
        <div class="field">
          <label for="audit-range">When</label>
          <select id="audit-range" data-testid="audit-range" value={range} onChange={(e) => setRange(parseTimeRange(e.currentTarget.value))}>
            {TIME_RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        {filtersActive && (
          <button type="button" class="button button-quiet" onClick={clearFilters}>
            Clear filters
          </button>
        )}
      </form>

      {list.failure && (
        <FailureNotice failure={list.failure} onRetry={list.loaded ? loadOlder : refresh} testId="audit-failure" />
      )}

      <div class="audit-layout">
        {(list.loaded || list.loading !== null) && (
          <div
            class="card table-card"
            data-testid="audit-list"
            data-shown-text={list.shownText}
            aria-busy={list.loading !== null || pending}
          >
            {list.loaded && list.rows.length === 0 ? (
              <div class="table-empty" data-testid="audit-empty">
                {filtersActive ? (
                  <>
                    <p class="empty-title">No audit rows match these filters.</p>
                    <button type="button" class="button" onClick={clearFilters}>
                      Clear filters
                    </button>
                  </>
                ) : (
                  <p class="empty-title">No audit rows yet. Actions appear here as soon as they happen.</p>
                )}
              </div>
            ) : !list.loaded && list.loading ? (
              <p class="table-empty muted">Loading audit rows…</p>
            ) : list.loaded ? (
              <AuditTable rows={list.rows} now={now} selectedId={selectedId} onSelect={setSelectedId} />
            ) : null}

            {list.loaded && list.rows.length > 0 && (
              <div class="table-footer">
                <span class="muted" data-testid="audit-count">
                  {formatCount(list.rows.length)} {list.rows.length === 1 ? 'row' : 'rows'} shown
                  {list.nextBeforeId !== null ? ', older rows available' : ''}
                  {list.loading === 'first' ? ' · updating…' : ''}
                </span>
                {list.nextBeforeId !== null && (
                  <button
                    type="button"
                    class="button"
                    data-testid="audit-load-older"
                    onClick={loadOlder}
                    disabled={list.loading !== null}
                  >
                    {list.loading === 'more' ? 'Loading…' : 'Load older'}
                  </button>
                )}
              </div>
            )}
          </div>
        )}

        {chainId !== null ? (
          <AuditChain id={chainId} verify={verify.state} onVerify={verify.run} onClose={closeChain} onShowRow={showRow} />
        ) : (
          selected && <AuditDetail row={selected} onClose={() => setSelectedId(null)} onShowChain={openChain} />
        )}
      </div>
    </>
  );
}

/** A free-text filter with the values seen so far offered as suggestions (`<datalist>`). */
function SuggestField(props: {
  id: string;
  label: string;
  listId: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  options: readonly string[];
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        list={props.listId}
        data-testid={props.id}
        placeholder={props.placeholder}
        autocomplete="off"
        spellcheck={false}
        value={props.value}
        onInput={(e) => props.onChange(e.currentTarget.value)}
      />
      <datalist id={props.listId}>
        {props.options.map((o) => (
          <option key={o} value={o} />
        ))}
      </datalist>
    </div>
  );
}
