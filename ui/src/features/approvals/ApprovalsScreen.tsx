import { useCallback, useEffect, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ApiFailure, type ApprovalInfo } from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { formatLocalTime, formatRelative } from '../../lib/format';
import {
  bulkIds,
  decisionOf,
  deciderWords,
  draftsWord,
  needsPerson,
  orderDrafts,
  parseStatusFilter,
  resultWords,
  selectionReducer,
  shortcutFor,
  statusArg,
  statusView,
  STATUS_FILTERS,
  type StatusFilter,
} from './approval-logic';
import { DraftDetail, type Mode } from './DraftDetail';
import { kindWords } from './DraftPreview';
import { approvalsChanged } from './pending-count';
import { useLive } from '../../lib/useLive';

/**
 * New drafts and decisions made elsewhere arrive as live events; the list also re-reads the
 * queue this often, for expiries and anything missed while the stream was down.
 */
const LIST_POLL_MS = 30_000;
/** A draft approved here is followed this often until the tool has answered. */
const FOLLOW_MS = 1_000;
/** The most drafts one list shows (the gateway answers up to 1000). */
const LIST_LIMIT = 500;

type Doing = 'approve' | 'reject' | 'confirm' | 'bulk';

type ActionFailure = { failure: ApiFailure; doing: Doing };

/** What to say when a decision fails; the gateway's own words and code are shown below it. */
function failureText(f: ActionFailure): { title?: string; hint?: string } {
  const code = f.failure.code;
  if (code === 'conflict') {
    return {
      title: 'Already decided',
      hint: 'Someone decided this draft first, or it expired or was settled elsewhere. The list now shows where it stands.',
    };
  }
  if (code === 'not_found') return { title: 'That draft is gone', hint: 'Reload the list to see the drafts there are.' };
  if (code !== 'bad_request') return {};
  switch (f.doing) {
    case 'bulk':
      return {
        title: 'These drafts cannot be approved together',
        hint: 'Bulk approval takes only drafts of one action on one connection, and never deletes, refunds or credits. Approve the others one by one.',
      };
    case 'approve':
      return { title: 'The gateway refused this version', hint: 'The edited input does not fit the action; the message says which field.' };
    case 'reject':
      return { title: 'The rejection was refused', hint: 'Give a reason of 1 to 2000 characters.' };
    case 'confirm':
      return { title: 'The confirmation was refused', hint: 'Reload the draft and try again.' };
  }
}

/** Keys typed into these go to the field, not to the shortcuts. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
  return false;
}

function doneWords(d: ApprovalInfo): string {
  const title = `“${d.preview.title}”`;
  switch (d.status) {
    case 'approved':
      return `Approved ${title}: sending…`;
    case 'executed':
      return `${title} is done: ${resultWords(d) ?? 'the tool accepted it.'}`;
    case 'failed':
      return `${title} failed: ${resultWords(d) ?? 'the tool refused it.'}`;
    case 'rejected':
      return `Rejected ${title}; the agent sees your reason.`;
    default:
      return `${title}: ${statusView(d.status).words}`;
  }
}

export function ApprovalsScreen() {
  const [filter, setFilter] = useState<StatusFilter>('pending');
  const [drafts, setDrafts] = useState<ApprovalInfo[] | null>(null);
  const [listFailure, setListFailure] = useState<ApiFailure | null>(null);
  const [reload, setReload] = useState(0);
  const [selection, dispatch] = useReducer(selectionReducer, { ids: [], selected: null });
  const [checked, setChecked] = useState<ReadonlySet<string>>(new Set());
  // Edit and reject belong to one draft: moving to another shows it in view mode.
  const [modeFor, setModeFor] = useState<{ id: string | null; mode: Mode }>({ id: null, mode: 'view' });
  const [doing, setDoing] = useState<Doing | null>(null);
  const [actionFailure, setActionFailure] = useState<ActionFailure | null>(null);
  const [recent, setRecent] = useState<ApprovalInfo[]>([]);
  const [now, setNow] = useState(() => Date.now());
  const seq = useRef(0);
  const focusCurrent = useRef(false);
  const listRef = useRef<HTMLUListElement>(null);

  const refresh = useCallback(() => setReload((r) => r + 1), []);
  useLive(['approval'], refresh);

  // The list for the current filter: at once, after each decision, and every few seconds.
  useEffect(() => {
    let stopped = false;
    let timer = 0;
    const load = () => {
      const mine = ++seq.current;
      api.approvals(statusArg(filter), LIST_LIMIT).then(
        (list) => {
          if (stopped || mine !== seq.current) return;
          const ordered = orderDrafts(list);
          setDrafts(ordered);
          setListFailure(null);
          setNow(Date.now());
          dispatch({ type: 'sync', ids: ordered.map((d) => d.id) });
          setChecked((prev) => {
            const still = new Set(ordered.filter((d) => prev.has(d.id) && d.status === 'pending').map((d) => d.id));
            return still.size === prev.size ? prev : still;
          });
        },
        (reason: unknown) => {
          if (!stopped && mine === seq.current) setListFailure(toFailure(reason));
        },
      ).finally(() => {
        if (!stopped) timer = window.setTimeout(load, LIST_POLL_MS);
      });
    };
    load();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [filter, reload]);

  // Follow drafts approved here until the tool has answered.
  const following = recent.some((d) => d.status === 'approved');
  useEffect(() => {
    if (!following) return;
    const timer = window.setTimeout(() => {
      Promise.all(recent.map((d) => (d.status === 'approved' ? api.approval(d.id).catch(() => d) : Promise.resolve(d)))).then(
        (fresh) => setRecent((prev) => prev.map((p) => fresh.find((f) => f.id === p.id) ?? p)),
      );
    }, FOLLOW_MS);
    return () => window.clearTimeout(timer);
  }, [following, recent]);

  // Relative times stay fresh.
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(timer);
  }, []);

  const current = drafts?.find((d) => d.id === selection.selected) ?? null;
  const mode: Mode = current !== null && modeFor.id === current.id ? modeFor.mode : 'view';
  const setMode = useCallback((m: Mode) => setModeFor({ id: selection.selected, mode: m }), [selection.selected]);

  // After j/k the current draft's entry takes the focus (and scrolls into view), before the
  // next key arrives.
  useLayoutEffect(() => {
    if (!focusCurrent.current || selection.selected === null) return;
    focusCurrent.current = false;
    const button = listRef.current?.querySelector<HTMLElement>(`[data-approval="${CSS.escape(selection.selected)}"] .draft-item-button`);
    button?.focus();
  }, [selection.selected]);

  const settled = (done: ApprovalInfo[]) => {
    setRecent((prev) => [...done, ...prev.filter((p) => !done.some((d) => d.id === p.id))].slice(0, 5));
    setModeFor({ id: null, mode: 'view' });
    approvalsChanged();
    refresh();
  };

  // One decision at a time, even when keys arrive faster than the screen re-renders.
  const deciding = useRef(false);
  const run = async (what: Doing, action: () => Promise<ApprovalInfo[]>) => {
    if (deciding.current) return;
    deciding.current = true;
    setDoing(what);
    setActionFailure(null);
    try {
      settled(await action());
    } catch (reason) {
      const failure = toFailure(reason);
      setActionFailure({ failure, doing: what });
      if (failure.code === 'conflict' || failure.code === 'not_found') {
        approvalsChanged();
        refresh();
      }
    } finally {
      deciding.current = false;
      setDoing(null);
    }
  };

  const approve = (d: ApprovalInfo, edit: Record<string, unknown> | null) =>
    run('approve', async () => [await api.approvalApprove(d.id, edit)]);
  const reject = (d: ApprovalInfo, reason: string) => run('reject', async () => [await api.approvalReject(d.id, reason)]);
  const confirm = (d: ApprovalInfo, sent: boolean) => run('confirm', async () => [await api.approvalConfirm(d.id, sent)]);
  const toApprove = drafts ? bulkIds(drafts, checked) : [];
  const approveChecked = () =>
    run('bulk', async () => {
      const done = await api.approvalsApproveBulk(toApprove);
      setChecked(new Set());
      return done;
    });

  // The key handler is registered once and reads what is on screen now, so a key pressed right
  // after another acts on the draft the first one made current.
  const live = useRef({ current, mode, approve });
  live.current = { current, mode, approve };

  // j/k move, a approves, r rejects (reason field focused), e edits, Escape cancels.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented) return;
      const { current, mode, approve } = live.current;
      if (e.key === 'Escape' && mode !== 'view') {
        setModeFor({ id: null, mode: 'view' });
        return;
      }
      const shortcut = shortcutFor({ key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, typing: isTyping(e.target) });
      if (shortcut === null) return;
      switch (shortcut) {
        case 'next':
        case 'prev':
          e.preventDefault();
          focusCurrent.current = true;
          dispatch({ type: 'move', by: shortcut === 'next' ? 1 : -1 });
          return;
        case 'approve':
          if (current?.status === 'pending' && mode === 'view') {
            e.preventDefault();
            void approve(current, null);
          }
          return;
        case 'reject':
        case 'edit':
          if (current?.status === 'pending') {
            // Keeps the key from being typed into the field that takes the focus.
            e.preventDefault();
            setModeFor({ id: current.id, mode: shortcut });
          }
          return;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const pendingShown = drafts?.filter((d) => d.status === 'pending') ?? [];
  const allChecked = pendingShown.length > 0 && pendingShown.every((d) => checked.has(d.id));
  const toggle = (id: string, on: boolean) =>
    setChecked((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  return (
    <>
      <ScreenHeader title="Approvals" subtitle="Drafts agents prepared. Nothing is sent until a person approves it.">
        <button type="button" class="button" onClick={refresh}>
          Refresh
        </button>
      </ScreenHeader>

      <form class="toolbar" aria-label="Which drafts to show" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="approvals-status">Show</label>
          <select
            id="approvals-status"
            value={filter}
            onChange={(e) => {
              setDrafts(null);
              setFilter(parseStatusFilter(e.currentTarget.value));
            }}
            data-testid="approvals-filter"
          >
            {STATUS_FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
        <p class="shortcut-help" id="approval-shortcuts">
          Keys: <kbd>j</kbd> / <kbd>k</kbd> next and previous · <kbd>a</kbd> approve · <kbd>r</kbd> reject · <kbd>e</kbd> edit ·{' '}
          <kbd>Esc</kbd> cancel
        </p>
      </form>

      <div role="status" aria-live="polite" class="recent-decisions" data-testid="recent-decisions">
        {recent.map((d) => (
          <p key={d.id} class={`recent tone-text-${statusView(d.status).tone}`} data-approval={d.id} data-status={d.status} data-testid="recent-decision">
            {doneWords(d)}
          </p>
        ))}
      </div>

      {actionFailure && <FailureNotice failure={actionFailure.failure} testId="approval-failure" {...failureText(actionFailure)} />}
      {listFailure && <FailureNotice failure={listFailure} onRetry={refresh} testId="approvals-failure" />}

      {drafts === null && !listFailure && <p class="muted">Loading drafts…</p>}

      {drafts !== null && drafts.length === 0 && (
        <div class="card table-empty" data-testid="approvals-empty">
          {filter === 'pending' ? (
            <>
              <p class="empty-title">Nothing is waiting for approval.</p>
              <p class="muted">
                When an agent wants to send an email, post a message, change a CRM record, send an invoice or move money,
                the draft waits here for you.
              </p>
            </>
          ) : (
            <p class="empty-title">No drafts with this status.</p>
          )}
        </div>
      )}

      {drafts !== null && drafts.length > 0 && (
        <div class="approvals-layout">
          <section class="card draft-list-card" aria-label="Drafts">
            {pendingShown.length > 0 && (
              <div class="bulk-bar">
                <label class="checkbox-field">
                  <input
                    type="checkbox"
                    checked={allChecked}
                    onChange={(e) => setChecked(e.currentTarget.checked ? new Set(pendingShown.map((d) => d.id)) : new Set())}
                    data-testid="approval-check-all"
                  />{' '}
                  Select all waiting
                </label>
                <button
                  type="button"
                  class="button button-small"
                  disabled={toApprove.length === 0 || doing !== null}
                  onClick={approveChecked}
                  data-testid="approve-selected"
                >
                  {doing === 'bulk' ? 'Approving…' : `Approve selected${toApprove.length > 0 ? ` (${toApprove.length})` : ''}`}
                </button>
              </div>
            )}
            <ul class="draft-list" ref={listRef} aria-describedby="approval-shortcuts" data-testid="approval-list">
              {drafts.map((d) => {
                const isCurrent = d.id === selection.selected;
                const view = statusView(d.status);
                const decision = decisionOf(d);
                return (
                  <li
                    key={d.id}
                    class={`draft-item ${isCurrent ? 'current' : ''} ${needsPerson(d.status) ? 'draft-open' : ''}`}
                    data-testid="approval-item"
                    data-approval={d.id}
                    data-status={d.status}
                    data-kind={d.preview.kind}
                  >
                    {d.status === 'pending' ? (
                      <input
                        type="checkbox"
                        class="draft-check"
                        checked={checked.has(d.id)}
                        aria-label={`Select “${d.preview.title}” for bulk approval`}
                        onChange={(e) => toggle(d.id, e.currentTarget.checked)}
                        data-testid="approval-check"
                      />
                    ) : (
                      <span class="draft-check" aria-hidden="true" />
                    )}
                    <button
                      type="button"
                      class="draft-item-button"
                      aria-current={isCurrent ? 'true' : undefined}
                      onClick={() => dispatch({ type: 'select', id: d.id })}
                      data-testid="approval-open"
                    >
                      <span class="draft-item-top">
                        <span class="draft-item-kind">{kindWords(d.preview.kind)}</span>
                        <span class={`pill tone-${view.tone}`}>{view.words}</span>
                      </span>
                      <span class="draft-item-title">{d.preview.title}</span>
                      <span class="draft-item-meta">
                        {d.agent} · {d.connection} · <span title={formatLocalTime(d.created_at_ms)}>{formatRelative(d.created_at_ms, now)}</span>
                      </span>
                      {decision && (
                        <span class="draft-item-meta" data-testid="approval-item-decided">
                          {decision.verb}
                          {decision.by && <> by {deciderWords(decision.by)}</>}
                          {decision.atMs !== null && <>, {formatRelative(decision.atMs, now)}</>}
                        </span>
                      )}
                    </button>
                  </li>
                );
              })}
            </ul>
            <p class="table-footer muted" data-testid="approvals-count-line">
              {drafts.length >= LIST_LIMIT ? `The newest ${LIST_LIMIT} drafts shown; decide some to see older ones` : `${draftsWord(drafts.length)} shown`}
              {toApprove.length > 0 ? `, ${toApprove.length} selected` : ''}
            </p>
          </section>

          {current ? (
            <DraftDetail
              key={current.id}
              draft={current}
              mode={mode}
              now={now}
              busy={doing !== null}
              onMode={setMode}
              onApprove={(edit) => void approve(current, edit)}
              onReject={(reason) => void reject(current, reason)}
              onConfirm={(sent) => void confirm(current, sent)}
            />
          ) : (
            <p class="card table-empty muted">Pick a draft to see it as it will be sent.</p>
          )}
        </div>
      )}
    </>
  );
}
