import { describe, expect, it, vi } from 'vitest';
import {
  approvalApproveCall,
  approvalConfirmCall,
  approvalGetCall,
  approvalRejectCall,
  approvalsApproveBulkCall,
  approvalsCountCall,
  pauseSetCall,
  pauseStateCall,
  approvalsListCall,
  auditListCall,
  auditVerifyCall,
  buildAuditQueryString,
  connectionAddKeyCall,
  connectionRemoveCall,
  connectionSetRotationCall,
  normalizeAuditQuery,
  auditChainCall,
  oauthStartCall,
  oauthStatusCall,
  statusCall,
} from './calls';
import { ApiFailure, failureFromHttp, failureFromInvoke, failureFromNetwork } from './errors';
import { createHttpTransport, createTauriTransport, detectTransportKind, type FetchFn } from './transport';

describe('buildAuditQueryString', () => {
  it('omits null, undefined and empty values', () => {
    expect(
      buildAuditQueryString({ text: null, actor_kind: null, decision: '', before_id: null, limit: null }),
    ).toBe('');
    expect(buildAuditQueryString({})).toBe('');
    expect(buildAuditQueryString({ text: '   ' })).toBe('');
  });

  it('keeps set values in contract order and encodes them', () => {
    expect(
      buildAuditQueryString({ text: 'gmail send', actor_kind: 'agent', decision: 'queued', before_id: 120, limit: 50 }),
    ).toBe('?text=gmail+send&actor_kind=agent&decision=queued&before_id=120&limit=50');
    expect(buildAuditQueryString({ text: 'a&b=c' })).toBe('?text=a%26b%3Dc');
  });

  it('keeps a zero before_id (a number, not "empty")', () => {
    expect(buildAuditQueryString({ before_id: 0 })).toBe('?before_id=0');
  });
});

describe('calls', () => {
  it('audit_list sends every AuditQuery key to Tauri and only set ones over HTTP', () => {
    const call = auditListCall({ text: ' deal ', limit: 25 });
    expect(call.command).toBe('audit_list');
    expect(call.args).toEqual({
      query: { text: 'deal', actor_kind: null, decision: null, agent: null, connection: null, tier: null, outcome: null, since_ms: null, until_ms: null, before_id: null, limit: 25 },
    });
    expect(call.method).toBe('GET');
    expect(call.path).toBe('/api/control/v1/audit?text=deal&limit=25');
  });

  it('status and verify map to the contract', () => {
    expect(statusCall()).toEqual({ command: 'gateway_status', method: 'GET', path: '/api/control/v1/status' });
    expect(auditVerifyCall()).toEqual({ command: 'audit_verify', method: 'POST', path: '/api/control/v1/audit/verify' });
  });

  it('normalizeAuditQuery turns blanks into null', () => {
    expect(normalizeAuditQuery({ text: '', decision: '  ', agent: ' ', outcome: '' })).toEqual({
      text: null,
      actor_kind: null,
      decision: null,
      agent: null,
      connection: null,
      tier: null,
      outcome: null,
      since_ms: null,
      until_ms: null,
      before_id: null,
      limit: null,
    });
  });

  it('sends every timeline filter the gateway indexes, and leaves out the unset ones', () => {
    expect(
      buildAuditQueryString(
        normalizeAuditQuery({ agent: 'inbox-bot', connection: 'conn_1', tier: 'write', outcome: 'ok', since_ms: 1000, text: '' }),
      ),
    ).toBe('?agent=inbox-bot&connection=conn_1&tier=write&outcome=ok&since_ms=1000');
    expect(auditChainCall('apr_1/x')).toEqual({
      command: 'audit_chain',
      args: { id: 'apr_1/x' },
      method: 'GET',
      path: '/api/control/v1/audit/chain/apr_1%2Fx',
    });
  });
});

describe('pause switch calls', () => {
  it('reads, pauses and resumes through the same routes as the CLI', () => {
    expect(pauseStateCall()).toMatchObject({ command: 'pause_state', method: 'GET', path: '/api/control/v1/pause' });
    expect(pauseSetCall(true)).toMatchObject({ command: 'pause_agents', method: 'POST', path: '/api/control/v1/pause' });
    expect(pauseSetCall(false)).toMatchObject({ command: 'resume_agents', method: 'POST', path: '/api/control/v1/resume' });
  });
});

describe('detectTransportKind', () => {
  it('picks Tauri only when the IPC bridge is present', () => {
    expect(detectTransportKind({ __TAURI_INTERNALS__: {} })).toBe('tauri');
    expect(detectTransportKind({ __TAURI__: {} })).toBe('http');
    expect(detectTransportKind({})).toBe('http');
    expect(detectTransportKind(undefined)).toBe('http');
  });
});

describe('failureFromHttp', () => {
  it('uses the ApiError body when it is one', () => {
    const f = failureFromHttp(503, 'Service Unavailable', '{"code":"audit_unavailable","message":"audit log is locked"}');
    expect(f).toBeInstanceOf(ApiFailure);
    expect(f.code).toBe('audit_unavailable');
    expect(f.message).toBe('audit log is locked');
    expect(f.status).toBe(503);
  });

  it('maps a non-JSON body to internal with status and an excerpt', () => {
    const f = failureFromHttp(502, 'Bad Gateway', '<html><body>nginx upstream error</body></html>');
    expect(f.code).toBe('internal');
    expect(f.message).toContain('HTTP 502 Bad Gateway');
    expect(f.message).toContain('non-JSON body');
    expect(f.message).toContain('nginx upstream error');
  });

  it('maps an empty body and an unknown code to internal', () => {
    expect(failureFromHttp(500, '', '').message).toBe('Gateway answered HTTP 500 with an empty body');
    const unknown = failureFromHttp(500, 'Internal Server Error', '{"code":"teapot","message":"short and stout"}');
    expect(unknown.code).toBe('internal');
    expect(unknown.message).toContain('teapot');
  });

  it('cuts long non-JSON bodies', () => {
    const f = failureFromHttp(500, '', 'x'.repeat(5000));
    expect(f.message.length).toBeLessThan(300);
  });

  it('treats any 401 as an expired session', () => {
    expect(failureFromHttp(401, 'Unauthorized', 'nope').code).toBe('unauthorized');
    expect(failureFromHttp(401, '', '{"code":"unauthorized","message":"session expired"}').message).toBe('session expired');
  });
});

describe('failureFromInvoke', () => {
  it('passes a Tauri ApiError through', () => {
    const f = failureFromInvoke('audit_list', { code: 'storage_full', message: 'disk full' });
    expect([f.code, f.message, f.status]).toEqual(['storage_full', 'disk full', null]);
  });

  it('maps plain strings and unknown shapes to internal naming the command', () => {
    expect(failureFromInvoke('audit_verify', 'command audit_verify not found')).toMatchObject({
      code: 'internal',
      message: 'Command audit_verify failed: command audit_verify not found',
    });
    expect(failureFromInvoke('gateway_status', 42).code).toBe('internal');
  });
});

describe('http transport', () => {
  const json = (status: number, body: unknown, statusText = '') =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, statusText });

  it('sends same-origin credentials and decodes JSON', async () => {
    const fetchFn = vi.fn<FetchFn>(async () => json(200, { rows: [], next_before_id: null }));
    const t = createHttpTransport({ fetch: fetchFn });
    await expect(t.request(auditListCall({ limit: 10 }))).resolves.toEqual({ rows: [], next_before_id: null });
    const [url, init] = fetchFn.mock.calls[0]!;
    expect(url).toBe('/api/control/v1/audit?limit=10');
    expect(init.credentials).toBe('same-origin');
    expect(init.method).toBe('GET');
  });

  it('rejects with the ApiError of a non-2xx answer', async () => {
    const t = createHttpTransport({ fetch: async () => json(403, { code: 'forbidden', message: 'foreign origin' }) });
    await expect(t.request(auditVerifyCall())).rejects.toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('rejects with internal when a 2xx body is not JSON', async () => {
    const t = createHttpTransport({ fetch: async () => json(200, '<!doctype html>') });
    await expect(t.request(statusCall())).rejects.toMatchObject({ code: 'internal' });
  });

  it('reports a network failure as unreachable', async () => {
    const t = createHttpTransport({
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    const failure = await t.request(statusCall()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect((failure as ApiFailure).code).toBe('unreachable');
    expect((failure as ApiFailure).message).toContain('Failed to fetch');
  });

  it('gives up after the timeout', async () => {
    const t = createHttpTransport({
      timeoutMs: 20,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    });
    await expect(t.request(statusCall())).rejects.toMatchObject({ code: 'unreachable' });
  });
});

describe('tauri transport', () => {
  it('invokes the command with its args', async () => {
    const invoke = vi.fn(async () => ({ intact: true }));
    const t = createTauriTransport(invoke as never);
    await t.request(auditListCall({ text: 'x' }));
    expect(invoke).toHaveBeenCalledWith('audit_list', {
      query: { text: 'x', actor_kind: null, decision: null, agent: null, connection: null, tier: null, outcome: null, since_ms: null, until_ms: null, before_id: null, limit: null },
    });
  });

  it('rejects with the ApiError the command returned', async () => {
    const t = createTauriTransport((async () => {
      throw { code: 'keychain_unavailable', message: 'keychain locked' };
    }) as never);
    await expect(t.request(statusCall())).rejects.toMatchObject({ code: 'keychain_unavailable', message: 'keychain locked' });
  });
});

it('failureFromNetwork says the gateway is not reachable', () => {
  expect(failureFromNetwork('/api/control/v1/status', new Error('ECONNREFUSED')).message).toBe(
    'Gateway not reachable (/api/control/v1/status): ECONNREFUSED',
  );
});

describe('connection calls', () => {
  it('sends a pasted key in the body only, leaving unset fields out over HTTP', () => {
    const call = connectionAddKeyCall({ provider: 'hubspot-sandbox', label: null, api_key: 'pat-1', scopes: ['a'] });
    expect(call).toMatchObject({ command: 'connection_add_key', method: 'POST', path: '/api/control/v1/connections' });
    expect(call.body).toEqual({ provider: 'hubspot-sandbox', api_key: 'pat-1', scopes: ['a'] });
    expect(call.args).toEqual({ provider: 'hubspot-sandbox', label: null, scopes: ['a'], api_key: 'pat-1' });
    expect(call.path).not.toContain('pat-1');
  });

  it('encodes ids in paths and uses PUT and DELETE', () => {
    expect(connectionRemoveCall('a/b')).toMatchObject({ method: 'DELETE', path: '/api/control/v1/connections/a%2Fb' });
    expect(connectionSetRotationCall('x-1', null)).toMatchObject({
      method: 'PUT',
      path: '/api/control/v1/connections/x-1/rotation',
      body: { every_days: null },
      args: { id: 'x-1', every_days: null },
    });
  });

  it('asks the gateway to open the browser and long-polls within 30 s', () => {
    expect(oauthStartCall({ provider: 'gmail', label: null, scopes: null, open_browser: true }).body).toEqual({
      provider: 'gmail',
      open_browser: true,
    });
    const poll = oauthStatusCall('oauth-1', 99);
    expect(poll.path).toBe('/api/control/v1/connections/oauth/oauth-1?wait=30');
    expect(poll.args).toEqual({ flow_id: 'oauth-1', wait_secs: 30 });
    expect(poll.timeoutMs).toBeGreaterThan(30_000);
  });

  it('the HTTP transport sends the JSON body with its content type', async () => {
    const fetchFn = vi.fn<FetchFn>(async () => new Response('{"id":"x"}', { status: 200 }));
    const t = createHttpTransport({ fetch: fetchFn });
    await t.request(connectionSetRotationCall('x', 30));
    const [, init] = fetchFn.mock.calls[0]!;
    expect(init.method).toBe('PUT');
    expect(init.body).toBe('{"every_days":30}');
    expect((init.headers as Record<string, string>)['content-type']).toBe('application/json');
  });

  it('keeps the newer error codes instead of reporting them as internal', () => {
    expect(failureFromHttp(403, '', '{"code":"scope_not_granted","message":"no scope"}').code).toBe('scope_not_granted');
    expect(failureFromHttp(409, '', '{"code":"reconnect_needed","message":"refused"}').code).toBe('reconnect_needed');
  });
});

describe('approval calls', () => {
  it('lists drafts by status, or every status when none is given', () => {
    expect(approvalsListCall('pending')).toEqual({
      command: 'approvals_list',
      args: { status: 'pending', limit: null },
      method: 'GET',
      path: '/api/control/v1/approvals?status=pending',
    });
    expect(approvalsListCall(null, 50)).toMatchObject({ path: '/api/control/v1/approvals?limit=50', args: { status: null, limit: 50 } });
    expect(approvalsListCall(null).path).toBe('/api/control/v1/approvals');
  });

  it('reads the count and one draft, encoding the id', () => {
    expect(approvalsCountCall()).toEqual({ command: 'approvals_count', method: 'GET', path: '/api/control/v1/approvals/count' });
    expect(approvalGetCall('apr_1/..')).toMatchObject({ command: 'approval_get', args: { id: 'apr_1/..' }, path: '/api/control/v1/approvals/apr_1%2F..' });
  });

  it('sends the whole edited input as `edit`, or null to run the draft as it is', () => {
    const edited = { channel: 'C1', text: 'Edited' };
    expect(approvalApproveCall('apr_1', edited)).toEqual({
      command: 'approval_approve',
      args: { id: 'apr_1', edit: edited },
      method: 'POST',
      path: '/api/control/v1/approvals/apr_1/approve',
      body: { edit: edited },
    });
    expect(approvalApproveCall('apr_1', null).body).toEqual({ edit: null });
  });

  it('rejects with the reason, confirms with sent, and bulk-approves by ids', () => {
    expect(approvalRejectCall('apr_2', 'wrong recipient')).toMatchObject({
      command: 'approval_reject',
      args: { id: 'apr_2', reason: 'wrong recipient' },
      path: '/api/control/v1/approvals/apr_2/reject',
      body: { reason: 'wrong recipient' },
    });
    expect(approvalConfirmCall('apr_3', false)).toMatchObject({
      command: 'approval_confirm',
      args: { id: 'apr_3', sent: false },
      path: '/api/control/v1/approvals/apr_3/confirm',
      body: { sent: false },
    });
    expect(approvalsApproveBulkCall(['apr_4', 'apr_5'])).toEqual({
      command: 'approvals_approve_bulk',
      args: { ids: ['apr_4', 'apr_5'] },
      method: 'POST',
      path: '/api/control/v1/approvals/approve-bulk',
      body: { ids: ['apr_4', 'apr_5'] },
    });
  });

  it('the Tauri transport passes the same fields as command arguments', async () => {
    const invoke = vi.fn(async () => ({ pending: 2 }));
    const t = createTauriTransport(invoke as never);
    await t.request(approvalRejectCall('apr_9', 'not now'));
    expect(invoke).toHaveBeenCalledWith('approval_reject', { id: 'apr_9', reason: 'not now' });
  });

  it('a refused bulk approval keeps the gateway\'s words and code', async () => {
    const message = "draft 'apr_7' cannot be approved in bulk: bulk approval takes only drafts of one tool on one connection";
    const t = createHttpTransport({ fetch: async () => new Response(JSON.stringify({ code: 'bad_request', message }), { status: 400 }) });
    await expect(t.request(approvalsApproveBulkCall(['apr_6', 'apr_7']))).rejects.toMatchObject({ code: 'bad_request', message, status: 400 });
  });
});
