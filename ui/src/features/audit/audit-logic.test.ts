import { describe, expect, it } from 'vitest';
import type { AuditRow } from '../../api';
import { collectDecisions, mergeRows, parseActorKind, toneOf } from './audit-logic';

const row = (id: number, decision = 'allowed'): AuditRow => ({
  id,
  ts_ms: id * 1000,
  actor_kind: 'system',
  actor_id: 'gateway',
  trigger: null,
  correlation_id: null,
  connection_id: null,
  action: 'gateway.start',
  tier: null,
  decision,
  outcome: 'ok',
  provider_ids: [],
  latency_ms: null,
  summary: null,
  prev_hash: '0',
  hash: String(id),
});

describe('audit logic', () => {
  it('merges an older page newest first without duplicates', () => {
    expect(mergeRows([row(9), row(8)], [row(8), row(7), row(5)]).map((r) => r.id)).toEqual([9, 8, 7, 5]);
    expect(mergeRows([row(1), row(3)], []).map((r) => r.id)).toEqual([3, 1]);
  });

  it('parses actor kinds strictly', () => {
    expect(parseActorKind('agent')).toBe('agent');
    expect(parseActorKind('')).toBeNull();
    expect(parseActorKind('robot')).toBeNull();
  });

  it('colours decisions and outcomes', () => {
    expect(toneOf('allowed')).toBe('good');
    expect(toneOf('Queued')).toBe('warn');
    expect(toneOf('denied')).toBe('bad');
    expect(toneOf('something-new')).toBe('neutral');
  });

  it('collects decision suggestions', () => {
    expect(collectDecisions(['queued'], [row(1, 'allowed'), row(2, 'queued'), row(3, '')])).toEqual(['allowed', 'queued']);
  });
});
