import { useState } from 'preact/hooks';
import { exportAudit, saveDownload, toFailure, type ApiFailure, type ExportFormat, type ExportProgress } from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { formatCount } from '../../lib/format';

type State =
  | { kind: 'idle' }
  | { kind: 'running'; format: ExportFormat; progress: ExportProgress }
  | { kind: 'done'; where: string; rows: number; bytes: number }
  | { kind: 'failed'; failure: ApiFailure };

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** Export the whole log as JSON Lines or CSV, with rows and bytes shown as they stream. */
export function ExportAudit() {
  const [format, setFormat] = useState<ExportFormat>('jsonl');
  const [state, setState] = useState<State>({ kind: 'idle' });
  const running = state.kind === 'running';

  const start = () => {
    setState({ kind: 'running', format, progress: { bytes: 0, rows: 0, total: null } });
    exportAudit(format, (progress) => setState({ kind: 'running', format, progress })).then(
      (done) => {
        if (done.kind === 'download') {
          saveDownload(done);
          setState({ kind: 'done', where: `downloaded as ${done.filename}`, rows: done.rows, bytes: done.bytes });
        } else {
          setState({ kind: 'done', where: `saved to ${done.path}`, rows: done.rows, bytes: done.bytes });
        }
      },
      (reason: unknown) => setState({ kind: 'failed', failure: toFailure(reason) }),
    );
  };

  return (
    <div class="export" data-testid="audit-export">
      <div class="export-controls">
        <label for="audit-export-format" class="visually-hidden">
          Export format
        </label>
        <select
          id="audit-export-format"
          data-testid="audit-export-format"
          value={format}
          disabled={running}
          onChange={(e) => setFormat(e.currentTarget.value === 'csv' ? 'csv' : 'jsonl')}
        >
          <option value="jsonl">JSON Lines</option>
          <option value="csv">CSV</option>
        </select>
        <button type="button" class="button" data-testid="audit-export-button" onClick={start} disabled={running}>
          {running ? 'Exporting…' : 'Export'}
        </button>
      </div>
      {state.kind === 'running' && (
        <div class="export-progress" role="status" data-testid="audit-export-progress">
          <progress
            max={state.progress.total ?? undefined}
            value={state.progress.total !== null ? Math.min(state.progress.rows, state.progress.total) : undefined}
          />
          <span>
            {formatCount(state.progress.rows)}
            {state.progress.total !== null ? ` of ${formatCount(state.progress.total)}` : ''} rows ·{' '}
            {formatBytes(state.progress.bytes)}
          </span>
        </div>
      )}
      {state.kind === 'done' && (
        <p class="export-done tone-good" role="status" data-testid="audit-export-done" data-rows={state.rows}>
          Exported {formatCount(state.rows)} {state.rows === 1 ? 'row' : 'rows'} ({formatBytes(state.bytes)}), {state.where}.
        </p>
      )}
      {state.kind === 'failed' && <FailureNotice failure={state.failure} onRetry={start} testId="audit-export-failure" />}
    </div>
  );
}
