import { describe, expect, it } from 'vitest';
import type { Catalog, ConnectionInfo, LimiterStatus, ProviderEntry } from '../../api';
import {
  connectOptions,
  defaultScopes,
  disconnectWords,
  flowView,
  groupCatalog,
  limitFacts,
  orderedScopes,
  parseRotationDays,
  statusView,
  validateKeyForm,
  validateOAuthForm,
  visibleConnections,
  windowWords,
} from './connection-logic';

function provider(over: Partial<ProviderEntry> = {}): ProviderEntry {
  return {
    id: 'hubspot-sandbox',
    name: 'HubSpot (sandbox)',
    category: 'crm',
    auth_modes: ['private_app_token', 'oauth_confidential'],
    credential_hint: null,
    oauth: {
      authorize_url: 'http://127.0.0.1:1/oauth/authorize',
      token_url: 'http://127.0.0.1:1/oauth/token',
      revoke_url: null,
      pkce: 'required',
      token_auth: 'client_secret_post',
      loopback_redirect: 'testing_only',
      loopback_note: 'testing only',
      sends_iss: null,
      scope_separator: ' ',
      authorize_params: [],
      token_note: null,
    },
    tenant_params: [],
    api_base_url: 'http://127.0.0.1:1',
    scopes: [
      { scope: 'crm.objects.contacts.read', tier: 'read', description: 'Read contacts', also_unlocks: [], note: null },
      { scope: 'crm.objects.contacts.write', tier: 'write', description: 'Change contacts', also_unlocks: ['delete'], note: null },
      { scope: 'crm.objects.deals.read', tier: 'read', description: 'Read deals', also_unlocks: [], note: null },
    ],
    scopes_note: null,
    read_only_scopes: ['crm.objects.deals.read', 'crm.objects.contacts.read', 'not-in-catalog'],
    rate_limits: [],
    rate_limit_note: null,
    concurrency: null,
    quota_costs: [],
    throttle_statuses: [429],
    pagination: [],
    webhook: null,
    docs_url: 'https://example.invalid',
    notes: [],
    ...over,
  } as ProviderEntry;
}

function connection(over: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return {
    id: 'hubspot-sandbox-1',
    provider: 'hubspot-sandbox',
    label: 'Sales',
    auth_mode: 'private_app_token',
    status: 'healthy',
    created_at_ms: 1000,
    key_set_at_ms: 1000,
    key_age_days: 0,
    rotate_every_days: null,
    last_success_ms: 1000,
    last_error: null,
    removed_at_ms: null,
    granted_scopes: [],
    token_expires_at_ms: null,
    rotation_due: false,
    ...over,
  };
}

const catalog: Catalog = {
  categories: [
    { id: 'crm', name: 'CRM' },
    { id: 'email_calendar', name: 'Email & Calendar' },
    { id: 'communication', name: 'Communication' },
    { id: 'data', name: 'Data' },
    { id: 'commerce_finance', name: 'Commerce & Finance' },
    { id: 'support', name: 'Support' },
  ],
  providers: [
    provider({ id: 'hubspot', name: 'HubSpot' }),
    provider(),
    provider({ id: 'gmail', name: 'Gmail', category: 'email_calendar', auth_modes: ['oauth_public'] }),
    provider({ id: 'stripe', name: 'Stripe', category: 'commerce_finance', auth_modes: ['restricted_key'] }),
  ],
};

describe('groupCatalog', () => {
  it('keeps all six categories in catalog order without a query', () => {
    const groups = groupCatalog(catalog, '');
    expect(groups.map((g) => g.category.name)).toEqual([
      'CRM',
      'Email & Calendar',
      'Communication',
      'Data',
      'Commerce & Finance',
      'Support',
    ]);
    expect(groups[0]!.providers.map((p) => p.id)).toEqual(['hubspot', 'hubspot-sandbox']);
    expect(groups[2]!.providers).toEqual([]);
  });

  it('filters by name, id, category and auth words, every word must match, empty categories dropped', () => {
    expect(groupCatalog(catalog, 'gmail').map((g) => g.category.id)).toEqual(['email_calendar']);
    expect(groupCatalog(catalog, '  HUBSPOT   sandbox ')[0]!.providers.map((p) => p.id)).toEqual(['hubspot-sandbox']);
    expect(groupCatalog(catalog, 'email')[0]!.providers.map((p) => p.id)).toEqual(['gmail']);
    expect(groupCatalog(catalog, 'restricted key')[0]!.providers.map((p) => p.id)).toEqual(['stripe']);
    expect(groupCatalog(catalog, 'nothing-like-this')).toEqual([]);
  });
});

describe('connectOptions', () => {
  it('offers both and prefers the first listed mode', () => {
    expect(connectOptions(provider())).toEqual({ oauth: true, keyMode: 'private_app_token', preferred: 'key' });
    expect(connectOptions(provider({ auth_modes: ['oauth_confidential', 'private_app_token'] })).preferred).toBe('oauth');
  });

  it('does not offer sign-in without OAuth config or when the redirect can never come back here', () => {
    expect(connectOptions(provider({ oauth: null })).oauth).toBe(false);
    const fixed = provider();
    fixed.oauth = { ...fixed.oauth!, loopback_redirect: 'fixed_callback_only' };
    expect(connectOptions(fixed)).toEqual({ oauth: false, keyMode: 'private_app_token', preferred: 'key' });
  });

  it('offers nothing for modes the app cannot use', () => {
    expect(connectOptions(provider({ auth_modes: ['basic'], oauth: null }))).toEqual({ oauth: false, keyMode: null, preferred: null });
  });
});

describe('scopes', () => {
  it('pre-ticks the recommended read-only set, only scopes the catalog lists', () => {
    expect(defaultScopes(provider())).toEqual(['crm.objects.deals.read', 'crm.objects.contacts.read']);
  });

  it('sends ticked scopes in catalog order', () => {
    expect(orderedScopes(provider(), new Set(['crm.objects.deals.read', 'crm.objects.contacts.read']))).toEqual([
      'crm.objects.contacts.read',
      'crm.objects.deals.read',
    ]);
  });
});

describe('form validation', () => {
  const p = provider();
  it('needs a key without spaces and at least one scope', () => {
    expect(validateKeyForm({ label: '', key: '  ', scopes: ['x'] }, p, 'private_app_token')).toEqual({
      key: 'Paste the private-app token.',
    });
    expect(validateKeyForm({ label: '', key: 'pat abc', scopes: ['x'] }, p, 'private_app_token').key).toMatch(/no spaces/);
    expect(validateKeyForm({ label: '', key: 'pat-1', scopes: [] }, p, 'private_app_token')).toEqual({
      scopes: 'Tick at least one permission the key was given.',
    });
    expect(validateKeyForm({ label: 'Sales', key: ' pat-1 ', scopes: ['x'] }, p, 'private_app_token')).toEqual({});
  });

  it('allows no scopes when the provider lists none', () => {
    expect(validateKeyForm({ label: '', key: 'k', scopes: [] }, provider({ scopes: [] }), 'api_key')).toEqual({});
  });

  it('checks the label length and lines', () => {
    expect(validateKeyForm({ label: 'x'.repeat(101), key: 'k', scopes: ['s'] }, p, 'api_key').label).toMatch(/100/);
    expect(validateOAuthForm('a\nb', ['s'], p).label).toMatch(/one line/);
    expect(validateOAuthForm('', [], p).scopes).toBeDefined();
  });

  it('parses a rotation schedule', () => {
    expect(parseRotationDays(' ')).toEqual({ days: null });
    expect(parseRotationDays('90')).toEqual({ days: 90 });
    expect(parseRotationDays('0')).toHaveProperty('error');
    expect(parseRotationDays('4000')).toHaveProperty('error');
    expect(parseRotationDays('1.5')).toHaveProperty('error');
  });
});

describe('status wording', () => {
  it('says connected, rotation due, error with the last error in words, reconnect, removed', () => {
    expect(statusView(connection())).toEqual({ words: 'Connected', tone: 'good', detail: null });
    const due = statusView(connection({ rotation_due: true, key_age_days: 100, rotate_every_days: 90 }));
    expect(due.tone).toBe('warn');
    expect(due.detail).toContain('100 days old');
    const err = statusView(
      connection({ status: 'error', last_error: { code: 'provider_unreachable', message: 'timeout', at_ms: 5 } }),
    );
    expect(err).toMatchObject({ words: 'Error', tone: 'bad', detail: 'The tool could not be reached.' });
    const re = statusView(
      connection({ status: 'reconnect_needed', last_error: { code: 'provider_refused_key', message: '401', at_ms: 5 } }),
    );
    expect(re.words).toBe('Reconnect needed');
    expect(re.detail).toContain('new key');
    expect(statusView(connection({ status: 'removed' })).words).toBe('Removed');
  });

  it('hides removed connections unless asked, newest first', () => {
    const all = [
      connection({ id: 'a', created_at_ms: 1 }),
      connection({ id: 'b', created_at_ms: 3, status: 'removed' }),
      connection({ id: 'c', created_at_ms: 2 }),
    ];
    expect(visibleConnections(all, false).map((c) => c.id)).toEqual(['c', 'a']);
    expect(visibleConnections(all, true).map((c) => c.id)).toEqual(['b', 'c', 'a']);
  });

  it('says what disconnecting does for OAuth and for a pasted key', () => {
    expect(disconnectWords(connection({ auth_mode: 'oauth_public' }), 'Gmail')).toContain('revoke');
    expect(disconnectWords(connection(), 'HubSpot')).toContain('stays valid at HubSpot');
  });

  it('words every sign-in outcome', () => {
    expect(flowView({ status: 'pending', expires_at_ms: 1 })).toMatchObject({ done: false, words: 'Finish signing in in your browser…' });
    expect(flowView({ status: 'connected', connection: connection() })).toMatchObject({ done: true, tone: 'good' });
    expect(flowView({ status: 'failed', code: 'consent_denied', message: 'x' }).words).toMatch(/declined/);
    expect(flowView({ status: 'failed', code: 'provider_error', message: 'boom' }).words).toContain('boom');
    expect(flowView({ status: 'expired' }).words).toMatch(/expired/);
  });
});

describe('rate-limit facts', () => {
  it('reads budget left of budget per window, queue and recent 429s', () => {
    const s: LimiterStatus = {
      budget_requests: 100,
      budget_per_ms: 10_000,
      catalog_requests: 100,
      catalog_per_ms: 10_000,
      budget_left: 42,
      provider_reported_left: null,
      calls_queued: 3,
      calls_in_flight: 1,
      recent_429s: 1,
      recent_429s_window_secs: 3600,
      paused_for_ms: null,
      daily_max: null,
      daily_remaining: null,
    };
    expect(limitFacts(s)).toEqual({
      budget: '42 of 100 left per 10 seconds',
      queued: '3 waiting, 1 in flight',
      throttled: '1 “slow down” answer in the last hour',
      paused: null,
    });
    expect(windowWords(60_000)).toBe('minute');
    expect(windowWords(86_400_000)).toBe('day');
  });
});
