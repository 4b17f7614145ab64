import { chainHref } from '../../routes';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApprovalInfo } from '../../api';
import { formatLocalTime, formatRelative } from '../../lib/format';
import {
  buildEdit,
  decisionOf,
  deciderWords,
  editFields,
  effectiveInput,
  fieldLabel,
  parseJsonEdit,
  REASON_MAX,
  reasonProblem,
  resultWords,
  sameInput,
  statusView,
  type EditField,
} from './approval-logic';
import { DraftPreview, kindWords } from './DraftPreview';

export type Mode = 'view' | 'edit' | 'reject';

type Props = {
  draft: ApprovalInfo;
  mode: Mode;
  now: number;
  busy: boolean;
  onMode: (mode: Mode) => void;
  onApprove: (edit: Record<string, unknown> | null) => void;
  onReject: (reason: string) => void;
  onConfirm: (sent: boolean) => void;
};

const when = (ms: number, now: number) => (
  <time dateTime={new Date(ms).toISOString()} title={formatLocalTime(ms)}>
    {formatRelative(ms, now)}
  </time>
);

export function DraftDetail({ draft: d, mode, now, busy, onMode, onApprove, onReject, onConfirm }: Props) {
  const status = statusView(d.status);
  const decision = decisionOf(d);
  const result = resultWords(d);
  const titleId = `draft-${d.id}-title`;
  return (
    <article
      class="card draft-detail"
      aria-labelledby={titleId}
      data-testid="approval-detail"
      data-approval={d.id}
      data-status={d.status}
    >
      <header class="draft-head">
        <div>
          <p class="draft-kind">{kindWords(d.preview.kind)}</p>
          <h2 id={titleId} class="draft-title" data-testid="approval-title">
            {d.preview.title}
          </h2>
        </div>
        <span class={`pill tone-${status.tone}`} data-testid="approval-status">
          {status.words}
        </span>
      </header>

      {d.status === 'pending' && mode === 'edit' ? (
        <EditForm draft={d} busy={busy} onCancel={() => onMode('view')} onApprove={onApprove} />
      ) : (
        <DraftPreview draft={d} />
      )}

      {d.status === 'pending' && mode === 'reject' && (
        <RejectForm busy={busy} onCancel={() => onMode('view')} onReject={onReject} />
      )}

      {d.status === 'pending' && mode === 'view' && (
        <div class="draft-actions" role="group" aria-label="Decide">
          <button
            type="button"
            class="button button-primary"
            disabled={busy}
            aria-keyshortcuts="a"
            onClick={() => onApprove(null)}
            data-testid="approve-button"
          >
            Approve and send
          </button>
          <button type="button" class="button" disabled={busy} aria-keyshortcuts="e" onClick={() => onMode('edit')} data-testid="edit-button">
            Edit
          </button>
          <button
            type="button"
            class="button button-danger"
            disabled={busy}
            aria-keyshortcuts="r"
            onClick={() => onMode('reject')}
            data-testid="reject-button"
          >
            Reject
          </button>
        </div>
      )}

      {d.status === 'needs_confirmation' && (
        <div class="notice notice-warn confirm-box" data-testid="needs-confirmation">
          <div>
            <p class="notice-title">Did this reach the tool?</p>
            <p class="notice-hint">
              Switchboard stopped while sending it, so it cannot tell whether {d.connection} received it. It is never
              re-sent on its own: look for it at the tool, then say what you found.
            </p>
            <div class="draft-actions">
              <button type="button" class="button" disabled={busy} onClick={() => onConfirm(true)} data-testid="confirm-sent">
                I found it at the provider
              </button>
              <button type="button" class="button button-primary" disabled={busy} onClick={() => onConfirm(false)} data-testid="confirm-not-sent">
                Not sent — send now
              </button>
            </div>
          </div>
        </div>
      )}

      <dl class="facts facts-compact draft-facts">
        <dt>Asked by</dt>
        <dd data-testid="approval-agent">{d.agent}</dd>
        <dt>Connection</dt>
        <dd>{d.connection}</dd>
        <dt>Action</dt>
        <dd>
          <code>{d.tool}</code> <span class={`pill tier-${d.tier}`}>{d.tier}</span>
          {d.description && <span class="draft-action-desc">{d.description}</span>}
        </dd>
        <dt>Held by rule</dt>
        <dd>
          <code>{d.rule}</code>
        </dd>
        <dt>Drafted</dt>
        <dd>{when(d.created_at_ms, now)}</dd>
        {d.status === 'pending' && (
          <>
            <dt>Expires</dt>
            <dd>{when(d.expires_at_ms, now)} if nobody decides</dd>
          </>
        )}
        {decision && (
          <>
            <dt>Decided</dt>
            <dd data-testid="approval-decided">
              {decision.verb}
              {decision.by && <> by {deciderWords(decision.by)}</>}
              {decision.atMs !== null && <>, {formatLocalTime(decision.atMs)}</>}
            </dd>
            <dt>Audit trail</dt>
            <dd>
              <a href={chainHref(d.id)} class="link-button" data-testid="approval-chain-link">
                See what happened, step by step
              </a>
            </dd>
          </>
        )}
        {d.reason !== null && (
          <>
            <dt>Reason</dt>
            <dd data-testid="approval-reason">{d.reason}</dd>
          </>
        )}
        {result !== null && (
          <>
            <dt>Result</dt>
            <dd data-testid="approval-result">
              {result}
              {d.finished_at_ms !== null && <>, {formatLocalTime(d.finished_at_ms)}</>}
            </dd>
          </>
        )}
        {d.edited_input !== null && (
          <>
            <dt>Agent's version</dt>
            <dd>
              <details>
                <summary>What the agent drafted before the edit</summary>
                <pre class="json">{JSON.stringify(d.input, null, 2)}</pre>
              </details>
            </dd>
          </>
        )}
      </dl>
    </article>
  );
}

function RejectForm({ busy, onCancel, onReject }: { busy: boolean; onCancel: () => void; onReject: (reason: string) => void }) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <form
      class="reject-form"
      data-testid="reject-form"
      onSubmit={(e) => {
        e.preventDefault();
        const p = reasonProblem(reason);
        setProblem(p);
        if (p === null) onReject(reason.trim());
        else ref.current?.focus();
      }}
    >
      <div class="field">
        <label for="reject-reason">Why reject it? The agent sees this reason.</label>
        <textarea
          id="reject-reason"
          ref={ref}
          rows={3}
          maxLength={REASON_MAX}
          aria-required="true"
          value={reason}
          aria-invalid={problem !== null}
          aria-describedby={problem !== null ? 'reject-reason-error' : undefined}
          onInput={(e) => setReason(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') onCancel();
          }}
          data-testid="reject-reason"
        />
        {problem !== null && (
          <p class="field-error" id="reject-reason-error">
            {problem}
          </p>
        )}
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-danger" disabled={busy} data-testid="reject-submit">
          {busy ? 'Rejecting…' : 'Reject draft'}
        </button>
        <button type="button" class="button button-quiet" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function EditForm({
  draft,
  busy,
  onCancel,
  onApprove,
}: {
  draft: ApprovalInfo;
  busy: boolean;
  onCancel: () => void;
  onApprove: (edit: Record<string, unknown> | null) => void;
}) {
  const base = effectiveInput(draft);
  const [fields, setFields] = useState<EditField[]>(() => editFields(base));
  const [asJson, setAsJson] = useState(false);
  const [json, setJson] = useState(() => JSON.stringify(base, null, 2));
  const [problem, setProblem] = useState<{ key: string | null; message: string } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    formRef.current?.querySelector<HTMLElement>('input, textarea, select')?.focus();
  }, [asJson]);

  const setField = (key: string, value: string) => setFields((fs) => fs.map((f) => (f.key === key ? { ...f, value } : f)));

  const switchMode = () => {
    if (asJson) {
      const parsed = parseJsonEdit(json);
      if (!parsed.ok) return setProblem(parsed);
      setFields(editFields(parsed.value));
    } else {
      const built = buildEdit(fields);
      if (!built.ok) return setProblem(built);
      setJson(JSON.stringify(built.value, null, 2));
    }
    setProblem(null);
    setAsJson(!asJson);
  };

  return (
    <form
      ref={formRef}
      class="edit-form"
      data-testid="edit-form"
      aria-label="Edit the draft before approving"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
      onSubmit={(e) => {
        e.preventDefault();
        const result = asJson ? parseJsonEdit(json) : buildEdit(fields);
        if (!result.ok) {
          setProblem(result);
          return;
        }
        setProblem(null);
        // An unchanged edit is a plain approval: the audit then shows no edit.
        onApprove(sameInput(result.value, draft.input) ? null : result.value);
      }}
    >
      <p class="edit-intro">
        Change what will be sent. The edited version is what runs; the agent's version stays in the audit log.
      </p>
      {asJson ? (
        <div class="field">
          <label for="edit-json">The whole input, as JSON</label>
          <textarea
            id="edit-json"
            class="code-input"
            rows={12}
            spellcheck={false}
            value={json}
            aria-invalid={problem !== null}
            onInput={(e) => setJson(e.currentTarget.value)}
            data-testid="edit-json"
          />
        </div>
      ) : (
        fields.map((f) => {
          const id = `edit-${f.key}`;
          const invalid = problem?.key === f.key;
          return (
            <div class="field" key={f.key}>
              <label for={id}>{fieldLabel(f.key)}</label>
              {f.kind === 'long' || f.kind === 'json' ? (
                <textarea
                  id={id}
                  class={f.kind === 'json' ? 'code-input' : undefined}
                  rows={f.kind === 'json' ? 5 : Math.min(12, Math.max(3, f.value.split('\n').length + 1))}
                  spellcheck={f.kind !== 'json'}
                  value={f.value}
                  aria-invalid={invalid}
                  onInput={(e) => setField(f.key, e.currentTarget.value)}
                  data-testid={`edit-field-${f.key}`}
                />
              ) : f.kind === 'boolean' ? (
                <select id={id} value={f.value} onChange={(e) => setField(f.key, e.currentTarget.value)} data-testid={`edit-field-${f.key}`}>
                  <option value="true">yes</option>
                  <option value="false">no</option>
                </select>
              ) : (
                <input
                  id={id}
                  type="text"
                  inputMode={f.kind === 'number' ? 'numeric' : undefined}
                  autocomplete="off"
                  value={f.value}
                  aria-invalid={invalid}
                  onInput={(e) => setField(f.key, e.currentTarget.value)}
                  data-testid={`edit-field-${f.key}`}
                />
              )}
              {f.kind === 'json' && <span class="field-hint">A list or object, written as JSON.</span>}
            </div>
          );
        })
      )}
      {problem && (
        <p class="field-error" role="alert" data-testid="edit-problem">
          {problem.message}
        </p>
      )}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy} data-testid="approve-edited">
          {busy ? 'Approving…' : 'Approve edited version'}
        </button>
        <button type="button" class="button" onClick={switchMode} data-testid="edit-toggle-json">
          {asJson ? 'Edit as fields' : 'Edit as JSON'}
        </button>
        <button type="button" class="button button-quiet" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
