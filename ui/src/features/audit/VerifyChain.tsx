import { useCallback, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ApiFailure, type VerifyReport } from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { formatCount } from '../../lib/format';

export type VerifyState =
  | { kind: 'idle' }
  | { kind: 'running' }
  | { kind: 'done'; report: VerifyReport }
  | { kind: 'failed'; failure: ApiFailure };

export function useVerifyChain() {
  const [state, setState] = useState<VerifyState>({ kind: 'idle' });
  const busy = useRef(false);
  const run = useCallback(() => {
    if (busy.current) return;
    busy.current = true;
    setState({ kind: 'running' });
    api
      .auditVerify()
      .then(
        (report) => setState({ kind: 'done', report }),
        (reason: unknown) => setState({ kind: 'failed', failure: toFailure(reason) }),
      )
      .finally(() => {
        busy.current = false;
      });
  }, []);
  return { state, run };
}

export function VerifyButton({ state, onVerify }: { state: VerifyState; onVerify: () => void }) {
  const running = state.kind === 'running';
  return (
    <button type="button" class="button button-primary" data-testid="verify-button" onClick={onVerify} disabled={running}>
      {running ? 'Verifying…' : 'Verify chain'}
    </button>
  );
}

/** The verdict: "Chain intact: N rows, head <hash12>" or where the chain breaks. */
export function VerifyResult({ state }: { state: VerifyState }) {
  if (state.kind === 'idle' || state.kind === 'running') {
    return <div class="visually-hidden" role="status" aria-live="polite">{state.kind === 'running' ? 'Verifying the audit chain…' : ''}</div>;
  }
  if (state.kind === 'failed') {
    return <FailureNotice failure={state.failure} testId="verify-result" />;
  }
  const { report } = state;
  if (report.intact) {
    return (
      <div class="notice notice-good" role="status" data-testid="verify-result" data-state="intact">
        <div>
          <p class="notice-title">
            Chain intact: {formatCount(report.rows)} {report.rows === 1 ? 'row' : 'rows'}, head{' '}
            <code title={report.head_hash ?? undefined}>{report.head_hash ? report.head_hash.slice(0, 12) : 'none'}</code>
          </p>
          {report.message && <p class="notice-detail">{report.message}</p>}
        </div>
      </div>
    );
  }
  return (
    <div class="notice notice-error" role="alert" data-testid="verify-result" data-state="broken">
      <div>
        <p class="notice-title">
          {report.first_bad
            ? `Chain broken at row ${report.first_bad.id}: ${report.first_bad.reason}`
            : 'Chain broken'}
        </p>
        <p class="notice-detail">
          {report.message} ({formatCount(report.rows)} {report.rows === 1 ? 'row' : 'rows'} checked)
        </p>
      </div>
    </div>
  );
}
