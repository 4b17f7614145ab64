import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ActorKind, type ApiFailure, type AuditRow } from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { formatCount } from '../../lib/format';
import { useDebounced } from '../../lib/useDebounced';
import { AuditDetail } from './AuditDetail';
import { AuditTable } from './AuditTable';
import { ACTOR_KINDS, collectDecisions, mergeRows, parseActorKind } from './audit-logic';
import { useVerifyChain, VerifyButton, VerifyResult } from './VerifyChain';

const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 300;

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
  const debouncedText = useDebounced(text.trim(), SEARCH_DEBOUNCE_MS);
  const debouncedDecision = useDebounced(decision.trim(), SEARCH_DEBOUNCE_MS);

  const [list, setList] = useState<ListState>(INITIAL);
  const [reloadToken, setReloadToken] = useState(0);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [decisions, setDecisions] = useState<string[]>([]);
  const [now, setNow] = useState(() => Date.now());
  const seq = useRef(0);
  const verify = useVerifyChain();

  const filters = { text: debouncedText, actor_kind: actorKind, decision: debouncedDecision };
  const filtersActive = debouncedText !== '' || actorKind !== null || debouncedDecision !== '';

  // First page whenever the (debounced) filters change or the user asks to refresh.
  useEffect(() => {
    const mine = ++seq.current;
    setList((prev) => ({ ...prev, loading: 'first', failure: null }));
    api.auditList({ ...filters, limit: PAGE_SIZE }).then(
      (page) => {
        if (mine !== seq.current) return;
        const rows = mergeRows(page.rows, []);
        setList({ rows, nextBeforeId: page.next_before_id, loading: null, failure: null, loaded: true, shownText: filters.text });
        setDecisions((known) => collectDecisions(known, rows));
        setNow(Date.now());
      },
      (reason: unknown) => {
        if (mine !== seq.current) return;
        setList({ rows: [], nextBeforeId: null, loading: null, failure: toFailure(reason), loaded: false, shownText: filters.text });
      },
    );
    // `filters` is rebuilt on every render; its parts below are the real dependencies.
  }, [debouncedText, actorKind, debouncedDecision, reloadToken]);

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
        setDecisions((known) => collectDecisions(known, page.rows));
      },
      (reason: unknown) => {
        if (mine !== seq.current) return;
        setList((prev) => ({ ...prev, loading: null, failure: toFailure(reason) }));
      },
    );
  }, [list.nextBeforeId, list.loading, debouncedText, actorKind, debouncedDecision]);

  // Relative times ("3 min ago") stay fresh.
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(timer);
  }, []);

  // Escape closes the detail panel.
  useEffect(() => {
    if (selectedId === null) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setSelectedId(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selectedId]);

  const refresh = () => setReloadToken((t) => t + 1);
  const clearFilters = () => {
    setText('');
    setActorKind(null);
    setDecision('');
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
        <div class="field">
          <label for="audit-decision">Decision</label>
          <input
            id="audit-decision"
            type="text"
            list="audit-decisions"
            data-testid="audit-decision"
            placeholder="Any decision"
            autocomplete="off"
            spellcheck={false}
            value={decision}
            onInput={(e) => setDecision(e.currentTarget.value)}
          />
          <datalist id="audit-decisions">
            {decisions.map((d) => (
              <option key={d} value={d} />
            ))}
          </datalist>
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
            aria-busy={list.loading !== null || text.trim() !== debouncedText || decision.trim() !== debouncedDecision}
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

        {selected && <AuditDetail row={selected} onClose={() => setSelectedId(null)} />}
      </div>
    </>
  );
}
