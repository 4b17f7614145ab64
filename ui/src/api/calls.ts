import type { AuditQuery } from './generated/AuditQuery';
import type { Call } from './transport';

export const CONTROL_API = '/api/control/v1';

/** `?text=..&limit=..` with null, undefined and empty values left out; '' when nothing is set. */
export function buildAuditQueryString(query: Partial<AuditQuery>): string {
  const params = new URLSearchParams();
  const keys = ['text', 'actor_kind', 'decision', 'before_id', 'limit'] as const;
  for (const key of keys) {
    const value = query[key];
    if (value === null || value === undefined) continue;
    const text = String(value);
    if (text.trim() === '') continue;
    params.set(key, text);
  }
  const qs = params.toString();
  return qs === '' ? '' : `?${qs}`;
}

/** Fills every AuditQuery field (Rust expects all keys; unset means null). */
export function normalizeAuditQuery(query: Partial<AuditQuery>): AuditQuery {
  const text = query.text?.trim();
  const decision = query.decision?.trim();
  return {
    text: text ? text : null,
    actor_kind: query.actor_kind ?? null,
    decision: decision ? decision : null,
    before_id: query.before_id ?? null,
    limit: query.limit ?? null,
  };
}

export function statusCall(): Call {
  return { command: 'gateway_status', method: 'GET', path: `${CONTROL_API}/status` };
}

export function auditListCall(query: Partial<AuditQuery>): Call {
  const full = normalizeAuditQuery(query);
  return {
    command: 'audit_list',
    args: { query: full },
    method: 'GET',
    path: `${CONTROL_API}/audit${buildAuditQueryString(full)}`,
  };
}

export function auditVerifyCall(): Call {
  return { command: 'audit_verify', method: 'POST', path: `${CONTROL_API}/audit/verify` };
}
