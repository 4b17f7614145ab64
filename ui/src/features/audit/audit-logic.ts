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
