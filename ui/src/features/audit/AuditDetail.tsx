import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { AuditRow } from '../../api';
import { formatLatency, formatLocalTime, prettyJson, shortHash } from '../../lib/format';

function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

const none = <span class="muted">—</span>;

/** Side panel for one audit row. The summary is shown as JSON text, never interpreted as HTML. */
export function AuditDetail({ row, onClose, onShowChain }: { row: AuditRow; onClose: () => void; onShowChain: (id: string) => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [row.id]);

  return (
    <aside class="card detail" id="audit-detail" data-testid="audit-detail" aria-labelledby="audit-detail-title">
      <div class="detail-header">
        <h2 id="audit-detail-title" tabIndex={-1} ref={heading}>
          Row {row.id}
        </h2>
        <button type="button" class="button button-quiet" onClick={onClose} aria-label="Close row details">
          Close
        </button>
      </div>
      <dl class="facts facts-compact">
        <Fact label="Time">{formatLocalTime(row.ts_ms)}</Fact>
        <Fact label="Actor">
          {row.actor_kind}:{row.actor_id}
        </Fact>
        <Fact label="Action">
          <code>{row.action}</code>
        </Fact>
        <Fact label="Tier">{row.tier ?? none}</Fact>
        <Fact label="Decision">{row.decision || none}</Fact>
        <Fact label="Outcome">{row.outcome || none}</Fact>
        <Fact label="Connection">{row.connection_id ?? none}</Fact>
        <Fact label="Trigger">{row.trigger ?? none}</Fact>
        <Fact label="Correlation">
          {row.correlation_id ? (
            <>
              <code>{row.correlation_id}</code>{' '}
              <button type="button" class="link-button" data-testid="audit-show-chain" onClick={() => onShowChain(row.correlation_id ?? '')}>
                Show what happened
              </button>
            </>
          ) : (
            none
          )}
        </Fact>
        <Fact label="Provider ids">
          {row.provider_ids.length ? row.provider_ids.map((id) => <code key={id} class="chip">{id}</code>) : none}
        </Fact>
        <Fact label="Latency">{formatLatency(row.latency_ms)}</Fact>
        <Fact label="Previous hash">
          <code title={row.prev_hash} data-testid="audit-detail-prev-hash">
            {shortHash(row.prev_hash)}
          </code>
        </Fact>
        <Fact label="Hash">
          <code title={row.hash} data-testid="audit-detail-hash">
            {shortHash(row.hash)}
          </code>
        </Fact>
      </dl>
      <h3 class="detail-subtitle">Summary</h3>
      <pre class="json" data-testid="audit-detail-summary">{prettyJson(row.summary)}</pre>
    </aside>
  );
}
