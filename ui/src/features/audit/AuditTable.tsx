import type { AuditRow } from '../../api';
import { formatLatency, formatLocalTime, formatRelative } from '../../lib/format';
import { toneOf } from './audit-logic';

type Props = {
  rows: readonly AuditRow[];
  now: number;
  selectedId: number | null;
  onSelect: (id: number | null) => void;
};

function Word({ value }: { value: string }) {
  return <span class={`pill tone-${toneOf(value)}`}>{value || '—'}</span>;
}

export function AuditTable({ rows, now, selectedId, onSelect }: Props) {
  return (
    <div class="table-scroll">
      <table class="audit-table" data-testid="audit-table">
        <caption class="visually-hidden">Audit rows, newest first. Choose an action to see the row's details.</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Tier</th>
            <th scope="col">Decision</th>
            <th scope="col">Outcome</th>
            <th scope="col">Connection</th>
            <th scope="col" class="num">Latency</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const selected = row.id === selectedId;
            return (
              <tr
                key={row.id}
                class={selected ? 'selected' : undefined}
                data-testid="audit-row"
                data-id={row.id}
                data-action={row.action}
                onClick={() => onSelect(selected ? null : row.id)}
              >
                <td class="cell-time">
                  <time dateTime={new Date(row.ts_ms).toISOString()} title={new Date(row.ts_ms).toString()}>
                    {formatLocalTime(row.ts_ms)}
                  </time>
                  <span class="sub">{formatRelative(row.ts_ms, now)}</span>
                </td>
                <td class="cell-actor">
                  <span class="actor-kind">{row.actor_kind}</span>
                  <span class="actor-sep">:</span>
                  <span class="actor-id">{row.actor_id}</span>
                </td>
                <td class="cell-action">
                  <button
                    type="button"
                    class="link-button"
                    data-testid="audit-row-action"
                    aria-pressed={selected}
                    aria-controls={selected ? 'audit-detail' : undefined}
                    onClick={(e) => {
                      e.stopPropagation();
                      onSelect(selected ? null : row.id);
                    }}
                  >
                    {row.action}
                  </button>
                </td>
                <td>{row.tier ? <span class={`pill tier-${row.tier}`}>{row.tier}</span> : <span class="muted">—</span>}</td>
                <td>
                  <Word value={row.decision} />
                </td>
                <td>
                  <Word value={row.outcome} />
                </td>
                <td class="cell-connection">{row.connection_id ?? <span class="muted">—</span>}</td>
                <td class="num">{formatLatency(row.latency_ms)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
