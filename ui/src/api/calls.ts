import type { ApprovalStatus } from './generated/ApprovalStatus';
import type { ApproveRequest } from './generated/ApproveRequest';
import type { AuditQuery } from './generated/AuditQuery';
import type { ConfirmRequest } from './generated/ConfirmRequest';
import type { RejectRequest } from './generated/RejectRequest';
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

// ---- Session (who decides: the window's OS user, or the name a browser login gives once) ----

export function sessionGetCall(): Call {
  return { command: 'session_get', method: 'GET', path: `${CONTROL_API}/session` };
}

export function sessionSetNameCall(name: string): Call {
  return { command: 'session_set_name', args: { name }, method: 'PUT', path: `${CONTROL_API}/session/name`, body: { name } };
}

export function auditVerifyCall(): Call {
  return { command: 'audit_verify', method: 'POST', path: `${CONTROL_API}/audit/verify` };
}

// ---- Connections (catalog, keys, OAuth, settings, live rate limits) ----

const seg = (value: string) => encodeURIComponent(value);

export function providersCall(): Call {
  return { command: 'providers_list', method: 'GET', path: `${CONTROL_API}/providers` };
}

export function connectionsListCall(): Call {
  return { command: 'connections_list', method: 'GET', path: `${CONTROL_API}/connections` };
}

export type AddKeyInput = { provider: string; label: string | null; api_key: string; scopes: string[] | null };

/** A pasted key. The body carries the key; nothing else may log or echo it. */
export function connectionAddKeyCall(input: AddKeyInput): Call {
  const body: Record<string, unknown> = { provider: input.provider, api_key: input.api_key };
  if (input.label !== null) body.label = input.label;
  if (input.scopes !== null) body.scopes = input.scopes;
  return {
    command: 'connection_add_key',
    args: { provider: input.provider, label: input.label, scopes: input.scopes, api_key: input.api_key },
    method: 'POST',
    path: `${CONTROL_API}/connections`,
    body,
  };
}

export function connectionTestCall(id: string): Call {
  return { command: 'connection_test', args: { id }, method: 'POST', path: `${CONTROL_API}/connections/${seg(id)}/test` };
}

export function connectionRemoveCall(id: string): Call {
  return { command: 'connection_remove', args: { id }, method: 'DELETE', path: `${CONTROL_API}/connections/${seg(id)}` };
}

export function connectionSetScopesCall(id: string, scopes: string[]): Call {
  return {
    command: 'connection_set_scopes',
    args: { id, scopes },
    method: 'PUT',
    path: `${CONTROL_API}/connections/${seg(id)}/scopes`,
    body: { scopes },
  };
}

export function connectionSetRotationCall(id: string, everyDays: number | null): Call {
  return {
    command: 'connection_set_rotation',
    args: { id, every_days: everyDays },
    method: 'PUT',
    path: `${CONTROL_API}/connections/${seg(id)}/rotation`,
    body: { every_days: everyDays },
  };
}

export type OAuthStartInput = { provider: string; label: string | null; scopes: string[] | null; open_browser: boolean };

export function oauthStartCall(input: OAuthStartInput): Call {
  const body: Record<string, unknown> = { provider: input.provider, open_browser: input.open_browser };
  if (input.label !== null) body.label = input.label;
  if (input.scopes !== null) body.scopes = input.scopes;
  return {
    command: 'oauth_start',
    args: { provider: input.provider, label: input.label, scopes: input.scopes, open_browser: input.open_browser },
    method: 'POST',
    path: `${CONTROL_API}/connections/oauth`,
    body,
  };
}

/** Long-polls a sign-in for up to `waitSecs` (0–30) while it is pending. */
export function oauthStatusCall(flowId: string, waitSecs: number): Call {
  const wait = Math.max(0, Math.min(30, Math.floor(waitSecs)));
  return {
    command: 'oauth_status',
    args: { flow_id: flowId, wait_secs: wait },
    method: 'GET',
    path: `${CONTROL_API}/connections/oauth/${seg(flowId)}${wait > 0 ? `?wait=${wait}` : ''}`,
    timeoutMs: (wait + 15) * 1000,
  };
}

export function oauthClientsCall(): Call {
  return { command: 'oauth_clients_list', method: 'GET', path: `${CONTROL_API}/oauth-clients` };
}

export function oauthClientSetCall(provider: string, clientId: string, clientSecret: string | null): Call {
  const body: Record<string, unknown> = { client_id: clientId };
  if (clientSecret !== null) body.client_secret = clientSecret;
  return {
    command: 'oauth_client_set',
    args: { provider, client_id: clientId, client_secret: clientSecret },
    method: 'PUT',
    path: `${CONTROL_API}/oauth-clients/${seg(provider)}`,
    body,
  };
}

export function rateLimitsCall(): Call {
  return { command: 'rate_limits', method: 'GET', path: `${CONTROL_API}/rate-limits` };
}

// ---- Approvals (the queue of drafts agents made, and a person's decisions) ----

/** `GET /approvals/count`: how many drafts wait for a person. */
export type ApprovalCount = { pending: number };

/** Drafts newest first; `status` null means every status. */
export function approvalsListCall(status: ApprovalStatus | null, limit: number | null = null): Call {
  const params = new URLSearchParams();
  if (status !== null) params.set('status', status);
  if (limit !== null) params.set('limit', String(limit));
  const qs = params.toString();
  return {
    command: 'approvals_list',
    args: { status, limit },
    method: 'GET',
    path: `${CONTROL_API}/approvals${qs === '' ? '' : `?${qs}`}`,
  };
}

export function approvalsCountCall(): Call {
  return { command: 'approvals_count', method: 'GET', path: `${CONTROL_API}/approvals/count` };
}

export function approvalGetCall(id: string): Call {
  return { command: 'approval_get', args: { id }, method: 'GET', path: `${CONTROL_API}/approvals/${seg(id)}` };
}

/** Approves a draft; `edit` is the whole edited input (what then runs), or null to run it as drafted. */
export function approvalApproveCall(id: string, edit: Record<string, unknown> | null): Call {
  const body: ApproveRequest = { edit };
  return {
    command: 'approval_approve',
    args: { id, edit },
    method: 'POST',
    path: `${CONTROL_API}/approvals/${seg(id)}/approve`,
    body,
  };
}

export function approvalRejectCall(id: string, reason: string): Call {
  const body: RejectRequest = { reason };
  return {
    command: 'approval_reject',
    args: { id, reason },
    method: 'POST',
    path: `${CONTROL_API}/approvals/${seg(id)}/reject`,
    body,
  };
}

/** Settles a draft whose outcome is unknown: `sent` = found at the provider; false = send it now. */
export function approvalConfirmCall(id: string, sent: boolean): Call {
  const body: ConfirmRequest = { sent };
  return {
    command: 'approval_confirm',
    args: { id, sent },
    method: 'POST',
    path: `${CONTROL_API}/approvals/${seg(id)}/confirm`,
    body,
  };
}

export function approvalsApproveBulkCall(ids: string[]): Call {
  return {
    command: 'approvals_approve_bulk',
    args: { ids },
    method: 'POST',
    path: `${CONTROL_API}/approvals/approve-bulk`,
    body: { ids },
  };
}

// ---- The pause switch (every agent at once) ----

export function pauseStateCall(): Call {
  return { command: 'pause_state', method: 'GET', path: `${CONTROL_API}/pause` };
}

/** Pauses (`true`) or resumes (`false`) every agent. */
export function pauseSetCall(paused: boolean): Call {
  return paused
    ? { command: 'pause_agents', method: 'POST', path: `${CONTROL_API}/pause` }
    : { command: 'resume_agents', method: 'POST', path: `${CONTROL_API}/resume` };
}
