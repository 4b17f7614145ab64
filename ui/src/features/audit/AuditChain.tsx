import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ApiFailure, type AuditRow } from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { formatLocalTime, shortHash } from '../../lib/format';
import { shapeChain, stageWords } from './audit-logic';
import type { VerifyState } from './VerifyChain';

type Props = {
  /** A call id or an approval id (`apr_…`). */
  id: string;
  verify: VerifyState;
  onVerify: () => void;
  onClose: () => void;
  onShowRow: (rowId: number) => void;
};

/** Whether the log these steps come from was verified, in words. */
function VerifyLine({ verify, onVerify }: { verify: VerifyState; onVerify: () => void }) {
  switch (verify.kind) {
    case 'running':
      return <p class="chain-verify muted" data-testid="chain-verify" data-state="running">Verifying the audit chain…</p>;
    case 'failed':
      return (
        <p class="chain-verify tone-bad" data-testid="chain-verify" data-state="failed">
          Could not verify the audit chain ({verify.failure.code}).{' '}
          <button type="button" class="link-button" onClick={onVerify}>
            Try again
          </button>
        </p>
      );
    case 'done':
      return verify.report.intact ? (
        <p class="chain-verify tone-good" data-testid="chain-verify" data-state="intact">
          Verified: these rows are part of an intact hash chain of {verify.report.rows} rows.
        </p>
      ) : (
        <p class="chain-verify tone-bad" data-testid="chain-verify" data-state="broken">
          The audit chain is broken{verify.report.first_bad ? ` at row ${verify.report.first_bad.id}` : ''}: these rows cannot be trusted.
        </p>
      );
    default:
      return (
        <p class="chain-verify muted" data-testid="chain-verify" data-state="idle">
          Not verified yet.{' '}
          <button type="button" class="link-button" onClick={onVerify}>
            Verify chain
          </button>
        </p>
      );
  }
}

/** One action's causal chain as a vertical timeline: trigger → decision → approval → provider call → result. */
export function AuditChain({ id, verify, onVerify, onClose, onShowRow }: Props) {
  const [rows, setRows] = useState<AuditRow[] | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [reload, setReload] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let stopped = false;
    setFailure(null);
    api.auditChain(id).then(
      (r) => {
        if (!stopped) setRows(r);
      },
      (reason: unknown) => {
        if (!stopped) setFailure(toFailure(reason));
      },
    );
    return () => {
      stopped = true;
    };
  }, [id, reload]);

  useEffect(() => {
    heading.current?.focus();
  }, [id]);

  // The chain says how far it can be trusted: verify once when it opens.
  useEffect(() => {
    if (verify.kind === 'idle') onVerify();
  }, [id]);

  const steps = rows === null ? [] : shapeChain(rows);
  return (
    <aside class="card detail chain" data-testid="audit-chain" aria-labelledby="audit-chain-title" data-chain-id={id}>
      <div class="detail-header">
        <h2 id="audit-chain-title" tabIndex={-1} ref={heading}>
          What happened
        </h2>
        <button type="button" class="button button-quiet" onClick={onClose} aria-label="Close the causal chain">
          Close
        </button>
      </div>
      <p class="muted chain-id">
        <code>{id}</code>
      </p>
      <VerifyLine verify={verify} onVerify={onVerify} />
      {failure && <FailureNotice failure={failure} onRetry={() => setReload((r) => r + 1)} testId="chain-failure" />}
      {rows === null && !failure && <p class="muted">Loading the chain…</p>}
      {steps.length > 0 && (
        <ol class="timeline" data-testid="chain-steps">
          {steps.map((s) => (
            <li key={`${s.rowId}-${s.stage}`} class={`timeline-step tone-${s.tone}`} data-testid="chain-step" data-stage={s.stage}>
              <span class="timeline-dot" aria-hidden="true" />
              <div class="timeline-body">
                <p class="timeline-stage">{stageWords(s.stage)}</p>
                <p class="timeline-title">{s.title}</p>
                {s.detail && <p class="timeline-detail">{s.detail}</p>}
                <p class="timeline-meta muted">
                  {formatLocalTime(s.tsMs)} · {s.who} ·{' '}
                  <button type="button" class="link-button" onClick={() => onShowRow(s.rowId)}>
                    row {s.rowId}
                  </button>
                  {rows && <> · hash {shortHash(rows.find((r) => r.id === s.rowId)?.hash, 8)}</>}
                </p>
              </div>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
