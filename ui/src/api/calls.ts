import type { ApprovalStatus } from './generated/ApprovalStatus';
import type { ApproveRequest } from './generated/ApproveRequest';
import type { AuditQuery } from './generated/AuditQuery';
import type { ConfirmRequest } from './generated/ConfirmRequest';
import type { GrantRequest } from './generated/GrantRequest';
import type { PolicyFile } from './generated/PolicyFile';
import type { Preferences } from './generated/Preferences';
import type { RejectRequest } from './generated/RejectRequest';
import type { Tier } from './generated/Tier';
import type { Call } from './transport';

export const CONTROL_API = '/api/control/v1';

/** `?text=..&limit=..` with null, undefined and empty values left out; '' when nothing is set. */
export function buildAuditQueryString(query: Partial<AuditQuery>): string {
  const params = new URLSearchParams();
  const keys = [
    'text',
    'actor_kind',
    'decision',
    'agent',
    'connection',
    'tier',
    'outcome',
    'since_ms',
    'until_ms',
    'before_id',
    'limit',
  ] as const;
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
  const trimmed = (v: string | null | undefined) => {
    const t = v?.trim();
    return t ? t : null;
  };
  return {
    text: trimmed(query.text),
    actor_kind: query.actor_kind ?? null,
    decision: trimmed(query.decision),
    agent: trimmed(query.agent),
    connection: trimmed(query.connection),
    tier: query.tier ?? null,
    outcome: trimmed(query.outcome),
    since_ms: query.since_ms ?? null,
    until_ms: query.until_ms ?? null,
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

/** One action's causal chain; `id` is a call id or an approval id (`apr_…`). */
export function auditChainCall(id: string): Call {
  return { command: 'audit_chain', args: { id }, method: 'GET', path: `${CONTROL_API}/audit/chain/${encodeURIComponent(id)}` };
}

export type ExportFormat = 'jsonl' | 'csv';

/** The streamed export (read by `exportAudit` in a browser, not through a transport). */
export function auditExportPath(format: ExportFormat): string {
  return `${CONTROL_API}/audit/export?format=${format}`;
}

/** The window's Save: the gateway writes the export into the Downloads folder. */
export function auditExportSaveCall(format: ExportFormat): Call {
  return { command: 'audit_export_save', args: { format }, method: 'GET', path: auditExportPath(format), timeoutMs: 600_000 };
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

// ---- Agents, their grants and their access requests ----

export function agentsListCall(): Call {
  return { command: 'agents_list', method: 'GET', path: `${CONTROL_API}/agents` };
}

/** Adds an agent; the answer carries its token, this once. */
export function agentAddCall(name: string): Call {
  return { command: 'agent_add', args: { name }, method: 'POST', path: `${CONTROL_API}/agents`, body: { name } };
}

export function agentRevokeCall(name: string): Call {
  return { command: 'agent_revoke', args: { name }, method: 'DELETE', path: `${CONTROL_API}/agents/${seg(name)}` };
}

/** Every grant, or one agent's. */
export function grantsListCall(agent: string | null): Call {
  return {
    command: 'grants_list',
    args: { agent },
    method: 'GET',
    path: `${CONTROL_API}/grants${agent === null ? '' : `?agent=${encodeURIComponent(agent)}`}`,
  };
}

export function grantSetCall(request: GrantRequest): Call {
  return { command: 'grant_set', args: { request }, method: 'POST', path: `${CONTROL_API}/grants`, body: request };
}

// ---- Scopes, rate-limit history, auto-send policies and preferences ----

/** `GET /connections/{id}/scopes`: the connection's scope checklist with 30-day use. */
export function connectionChecklistCall(id: string): Call {
  return { command: 'connection_checklist', args: { id }, method: 'GET', path: `${CONTROL_API}/connections/${seg(id)}/scopes` };
}

/** Takes one tier away from an agent on one connection. */
export function grantRevokeCall(agent: string, connection: string, tier: Tier): Call {
  return {
    command: 'grant_revoke',
    args: { agent, connection, tier },
    method: 'DELETE',
    path: `${CONTROL_API}/grants/${seg(agent)}/${seg(connection)}/${seg(tier)}`,
  };
}

export type RequestStatus = 'pending' | 'granted' | 'dismissed' | 'all';

export function requestsListCall(status: RequestStatus): Call {
  return { command: 'requests_list', args: { status }, method: 'GET', path: `${CONTROL_API}/requests?status=${status}` };
}

export function requestGrantCall(id: string): Call {
  return { command: 'request_grant', args: { id }, method: 'POST', path: `${CONTROL_API}/requests/${seg(id)}/grant` };
}

export function requestDismissCall(id: string): Call {
  return { command: 'request_dismiss', args: { id }, method: 'POST', path: `${CONTROL_API}/requests/${seg(id)}/dismiss` };
}

// ---- The rollout planner ----

export function plannerCall(): Call {
  return { command: 'planner', method: 'GET', path: `${CONTROL_API}/planner` };
}

export function policiesListCall(): Call {
  return { command: 'policies_list', method: 'GET', path: `${CONTROL_API}/policies` };
}

/** Adds (or replaces, by id) a policy from its file text. */
export function policyAddCall(format: 'toml' | 'json', text: string): Call {
  const body: PolicyFile = { format, text };
  return { command: 'policy_add', args: { format, text }, method: 'POST', path: `${CONTROL_API}/policies`, body };
}

export function policyRemoveCall(id: string): Call {
  return { command: 'policy_remove', args: { id }, method: 'DELETE', path: `${CONTROL_API}/policies/${seg(id)}` };
}

export function policyPresetsCall(agent: string): Call {
  return {
    command: 'policy_presets',
    args: { agent },
    method: 'GET',
    path: `${CONTROL_API}/policies/presets?agent=${encodeURIComponent(agent)}`,
  };
}

export function preferencesCall(): Call {
  return { command: 'preferences_get', method: 'GET', path: `${CONTROL_API}/preferences` };
}

export function preferencesSetCall(prefs: Preferences): Call {
  return {
    command: 'preferences_set',
    args: { notifications: prefs.notifications },
    method: 'PUT',
    path: `${CONTROL_API}/preferences`,
    body: prefs,
  };
}
