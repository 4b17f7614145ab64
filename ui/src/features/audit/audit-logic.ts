// Pure helpers for the Audit screen (unit-tested).
import type { ActorKind, AuditRow } from '../../api';

export const ACTOR_KINDS: readonly ActorKind[] = ['user', 'agent', 'webhook', 'system'];

export function parseActorKind(value: string): ActorKind | null {
  return (ACTOR_KINDS as readonly string[]).includes(value) ? (value as ActorKind) : null;
}

/** Older page appended to the current rows: de-duplicated by id, newest (highest id) first. */
export function mergeRows(current: readonly AuditRow[], older: readonly AuditRow[]): AuditRow[] {
  const byId = new Map<number, AuditRow>();
  for (const row of current) byId.set(row.id, row);
  for (const row of older) if (!byId.has(row.id)) byId.set(row.id, row);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

export type Tone = 'good' | 'warn' | 'bad' | 'neutral';

const GOOD = new Set(['allow', 'allowed', 'ok', 'success', 'succeeded', 'done', 'approved', 'granted', 'sent', 'intact']);
const WARN = new Set(['queue', 'queued', 'pending', 'held', 'retry', 'retrying', 'waiting', 'expired']);
const BAD = new Set(['deny', 'denied', 'refused', 'rejected', 'blocked', 'error', 'failed', 'failure', 'broken', 'timeout']);

/** Colour for a decision or outcome word; unknown words stay neutral. */
export function toneOf(word: string): Tone {
  const w = word.trim().toLowerCase();
  if (GOOD.has(w)) return 'good';
  if (WARN.has(w)) return 'warn';
  if (BAD.has(w)) return 'bad';
  return 'neutral';
}

/** Distinct non-empty decisions seen so far, sorted, for the decision filter's suggestions. */
export function collectDecisions(known: readonly string[], rows: readonly AuditRow[]): string[] {
  const all = new Set(known);
  for (const row of rows) if (row.decision) all.add(row.decision);
  return [...all].sort();
}

// ---- Filters ----

export const TIERS = ['read', 'write', 'delete'] as const;
export type TierFilter = (typeof TIERS)[number];

/** Time ranges the filter offers; `any` sets no bound. */
export const TIME_RANGES = [
  { id: 'any', label: 'Any time', ms: null },
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
] as const;
export type TimeRangeId = (typeof TIME_RANGES)[number]['id'];

export function parseTier(value: string): TierFilter | null {
  return (TIERS as readonly string[]).includes(value) ? (value as TierFilter) : null;
}

export function parseTimeRange(value: string): TimeRangeId {
  return TIME_RANGES.find((r) => r.id === value)?.id ?? 'any';
}

/** The lower time bound of a range at `nowMs` (null for any time). */
export function sinceFor(range: TimeRangeId, nowMs: number): number | null {
  const ms = TIME_RANGES.find((r) => r.id === range)?.ms ?? null;
  return ms === null ? null : nowMs - ms;
}

/** Distinct non-empty values of one text column seen so far, sorted (filter suggestions). */
export function collectValues(
  known: readonly string[],
  rows: readonly AuditRow[],
  pick: (row: AuditRow) => string | null | undefined,
): string[] {
  const all = new Set(known);
  for (const row of rows) {
    const v = pick(row);
    if (v) all.add(v);
  }
  return [...all].sort();
}

// ---- One action's causal chain ----

export type ChainStage = 'trigger' | 'decision' | 'approval' | 'provider_call' | 'result' | 'note';

export type ChainStep = {
  stage: ChainStage;
  /** The audit row this step is read from. */
  rowId: number;
  tsMs: number;
  title: string;
  /** Who acted, in words (`agent feedback-bot`, `window:alice`). */
  who: string;
  detail: string | null;
  tone: Tone;
};

const STAGE_WORDS: Record<ChainStage, string> = {
  trigger: 'Trigger',
  decision: 'Decision',
  approval: 'Approval',
  provider_call: 'Provider call',
  result: 'Result',
  note: 'Note',
};

export function stageWords(stage: ChainStage): string {
  return STAGE_WORDS[stage];
}

function field(summary: unknown, key: string): unknown {
  return typeof summary === 'object' && summary !== null ? (summary as Record<string, unknown>)[key] : undefined;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function toolOf(row: AuditRow): string {
  return str(field(row.summary, 'tool')) ?? row.action;
}

function whoOf(row: AuditRow): string {
  return `${row.actor_kind} ${row.actor_id}`;
}

function approvalStep(row: AuditRow): Omit<ChainStep, 'stage' | 'rowId' | 'tsMs' | 'who'> {
  const verb = row.action.slice('approval.'.length);
  const by = row.actor_id;
  switch (verb) {
    case 'approved': {
      const edited = field(row.summary, 'edited') === true;
      return {
        title: edited ? `Approved with edits by ${by}` : `Approved as drafted by ${by}`,
        detail: edited ? `Edited input: ${JSON.stringify(field(row.summary, 'edited_input'))}` : null,
        tone: 'good',
      };
    }
    case 'rejected':
      return { title: `Rejected by ${by}`, detail: str(field(row.summary, 'reason')), tone: 'bad' };
    case 'expired':
      return { title: 'Expired: nobody decided in time', detail: null, tone: 'warn' };
    case 'confirmed':
      return {
        title: field(row.summary, 'sent') === true ? `Confirmed sent by ${by}` : `Marked not sent by ${by}; sent again`,
        detail: null,
        tone: 'neutral',
      };
    default:
      return { title: `${verb} by ${by}`, detail: null, tone: toneOf(row.outcome) };
  }
}

/**
 * Turns one action's audit rows (oldest first, as `audit/chain/{id}` answers) into the
 * timeline a person reads: trigger → decision → approval → provider call → result. A direct
 * call's single `allow`/`started` row is both its decision and its provider call.
 */
export function shapeChain(rows: readonly AuditRow[]): ChainStep[] {
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  const steps: ChainStep[] = [];
  let decided = false;
  let called = false;
  const push = (row: AuditRow, stage: ChainStage, s: Omit<ChainStep, 'stage' | 'rowId' | 'tsMs' | 'who'>, who = whoOf(row)) =>
    steps.push({ stage, rowId: row.id, tsMs: row.ts_ms, who, ...s });
  const first = sorted[0];
  if (first === undefined) return steps;
  push(first, 'trigger', {
    title: `${first.actor_kind === 'agent' ? 'Agent' : first.actor_kind} ${first.actor_id} asked for ${toolOf(first)}`,
    detail: first.trigger,
    tone: 'neutral',
  });
  for (const row of sorted) {
    if (row.action.startsWith('approval.')) {
      push(row, 'approval', approvalStep(row));
      continue;
    }
    const isDecision = ['allow', 'queue', 'deny'].includes(row.decision);
    if (isDecision && !decided) {
      decided = true;
      const rule = str(field(row.summary, 'rule'));
      if (row.decision === 'queue') {
        push(row, 'decision', { title: 'Held for a person to approve', detail: rule ? `Rule: ${rule}` : null, tone: 'warn' });
      } else if (row.decision === 'deny') {
        push(row, 'decision', { title: `Refused (${row.outcome})`, detail: str(field(row.summary, 'message')) ?? rule, tone: 'bad' });
      } else {
        push(row, 'decision', { title: 'Allowed', detail: rule ? `Rule: ${rule}` : null, tone: 'good' });
      }
      if (row.outcome !== 'started') continue;
    }
    if (row.outcome === 'started') {
      called = true;
      const method = str(field(row.summary, 'method'));
      const path = str(field(row.summary, 'path'));
      push(row, 'provider_call', {
        title: `Sent to the provider${row.connection_id ? ` on ${row.connection_id}` : ''}`,
        detail: method && path ? `${method} ${path}` : null,
        tone: 'neutral',
      });
      continue;
    }
    if (row === first && !isDecision) continue;
    if (called) {
      const status = field(row.summary, 'status');
      const error = str(field(row.summary, 'error'));
      const ok = toneOf(row.outcome) === 'good' || row.outcome === 'executed';
      push(row, 'result', {
        title: ok ? `Done${typeof status === 'number' ? `: provider answered HTTP ${status}` : ''}` : `Failed (${row.outcome})`,
        detail: error ?? (row.latency_ms !== null ? `${row.latency_ms} ms` : null),
        tone: ok ? 'good' : toneOf(row.outcome) === 'neutral' ? 'bad' : toneOf(row.outcome),
      });
      continue;
    }
    push(row, 'note', { title: `${row.action}: ${row.outcome}`, detail: null, tone: toneOf(row.outcome) });
  }
  return steps;
}
