import { describe, expect, it } from 'vitest';
import type { AuditRow } from '../../api';
import { collectDecisions, collectValues, mergeRows, parseActorKind, parseTimeRange, shapeChain, sinceFor, toneOf } from './audit-logic';

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

const chainRow = (id: number, over: Partial<AuditRow>): AuditRow => ({
  ...row(id),
  actor_kind: 'agent',
  actor_id: 'feedback-bot',
  trigger: 'http:POST /api/agent/v1/tools/slack_post_message',
  correlation_id: 'call_1',
  connection_id: 'conn_slack',
  action: 'slack.post_message',
  tier: 'write',
  decision: 'none',
  ...over,
});

describe('the causal chain', () => {
  it('draws a held draft as trigger, decision, approval with edits, provider call and result', () => {
    const rows = [
      chainRow(10, { decision: 'queue', outcome: 'pending_approval', summary: { tool: 'slack_post_message', approval_id: 'apr_1', rule: 'default:outbound-queues' } }),
      chainRow(12, {
        actor_kind: 'user',
        actor_id: 'window:alice',
        action: 'approval.approved',
        outcome: 'approved',
        summary: { approval_id: 'apr_1', edited: true, edited_input: { text: 'Hi Grace' } },
      }),
      chainRow(13, { decision: 'allow', outcome: 'started', summary: { method: 'POST', path: '/api/chat.postMessage', approval_id: 'apr_1' } }),
      chainRow(14, { outcome: 'ok', summary: { status: 200, approval_id: 'apr_1' } }),
    ];
    const steps = shapeChain([...rows].reverse());
    expect(steps.map((s) => s.stage)).toEqual(['trigger', 'decision', 'approval', 'provider_call', 'result']);
    expect(steps[0]?.title).toBe('Agent feedback-bot asked for slack_post_message');
    expect(steps[1]).toMatchObject({ title: 'Held for a person to approve', detail: 'Rule: default:outbound-queues', tone: 'warn' });
    expect(steps[2]).toMatchObject({ title: 'Approved with edits by window:alice', tone: 'good' });
    expect(steps[2]?.detail).toContain('Hi Grace');
    expect(steps[3]).toMatchObject({ detail: 'POST /api/chat.postMessage', rowId: 13 });
    expect(steps[4]).toMatchObject({ title: 'Done: provider answered HTTP 200', tone: 'good' });
  });

  it('draws a direct call as its decision and provider call from one row, and a failure as bad', () => {
    const steps = shapeChain([
      chainRow(1, { tier: 'read', decision: 'allow', outcome: 'started', summary: { method: 'GET', path: '/x' } }),
      chainRow(2, { outcome: 'provider_error', summary: { error: 'HTTP 500 from Slack' } }),
    ]);
    expect(steps.map((s) => s.stage)).toEqual(['trigger', 'decision', 'provider_call', 'result']);
    expect(steps[3]).toMatchObject({ title: 'Failed (provider_error)', detail: 'HTTP 500 from Slack', tone: 'bad' });
  });

  it('shows a refusal and a rejection with their reasons, and nothing for no rows', () => {
    const denied = shapeChain([chainRow(1, { decision: 'deny', outcome: 'not_granted', summary: { message: 'needs write on conn_slack' } })]);
    expect(denied.map((s) => s.stage)).toEqual(['trigger', 'decision']);
    expect(denied[1]).toMatchObject({ title: 'Refused (not_granted)', detail: 'needs write on conn_slack', tone: 'bad' });
    const rejected = shapeChain([
      chainRow(1, { decision: 'queue', outcome: 'pending_approval' }),
      chainRow(2, { actor_kind: 'user', actor_id: 'browser', action: 'approval.rejected', outcome: 'rejected', summary: { reason: 'wrong channel' } }),
    ]);
    expect(rejected[2]).toMatchObject({ stage: 'approval', title: 'Rejected by browser', detail: 'wrong channel', tone: 'bad' });
    expect(shapeChain([])).toEqual([]);
  });
});

describe('timeline filters', () => {
  it('turns a time range into its lower bound', () => {
    expect(sinceFor('any', 10_000_000)).toBeNull();
    expect(sinceFor('1h', 10_000_000)).toBe(10_000_000 - 3_600_000);
    expect(parseTimeRange('7d')).toBe('7d');
    expect(parseTimeRange('forever')).toBe('any');
  });

  it('suggests the agents, connections and outcomes seen so far', () => {
    const rows = [chainRow(1, {}), chainRow(2, { actor_kind: 'system', actor_id: 'gateway', connection_id: null })];
    expect(collectValues(['zeta'], rows, (r) => (r.actor_kind === 'agent' ? r.actor_id : null))).toEqual(['feedback-bot', 'zeta']);
    expect(collectValues([], rows, (r) => r.connection_id)).toEqual(['conn_slack']);
  });
});
