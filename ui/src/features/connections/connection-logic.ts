// Pure helpers for the Connections screen (unit-tested; no DOM, no clock reads).
import type {
  AuthMode,
  Catalog,
  CategoryInfo,
  ConnectionInfo,
  ConnectionLimits,
  LimiterStatus,
  OAuthFlowStatus,
  ProviderEntry,
  Tier,
} from '../../api';

/** Longest label the gateway accepts (characters). */
export const LABEL_MAX = 100;
/** Longest rotation schedule the gateway accepts (days). */
export const ROTATION_MAX_DAYS = 3650;

// ---------- Catalog: categories and search ----------

export type CategoryGroup = {
  category: CategoryInfo;
  providers: ProviderEntry[];
};

/** Auth modes in words a person knows. */
export function authModeWords(mode: AuthMode): string {
  switch (mode) {
    case 'oauth_public':
      return 'Sign in with your account';
    case 'oauth_confidential':
      return 'Sign in with your account (needs your own app)';
    case 'api_key':
      return 'API key';
    case 'private_app_token':
      return 'Private-app token';
    case 'restricted_key':
      return 'Restricted key';
    case 'basic':
      return 'Email and API key (basic sign-in)';
    case 'bot_token':
      return 'Bot token';
    case 'key_pair_jwt':
      return 'Key pair (JWT)';
  }
}

/** The key kind a form asks for, in words: "private-app token". */
export function keyNoun(mode: AuthMode): string {
  return authModeWords(mode).toLowerCase();
}

function norm(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
}

/**
 * Every category in catalog order with the providers that match `query` (name, id, category
 * or auth mode words; each word must match). An empty query keeps everything; with a query,
 * categories left empty are dropped.
 */
export function groupCatalog(catalog: Catalog, query: string): CategoryGroup[] {
  const words = norm(query).split(/\s+/).filter((w) => w !== '');
  const groups: CategoryGroup[] = [];
  for (const category of catalog.categories) {
    const providers = catalog.providers.filter((p) => {
      if (p.category !== category.id) return false;
      if (words.length === 0) return true;
      const hay = norm([p.name, p.id, category.name, ...p.auth_modes.map(authModeWords)].join(' '));
      return words.every((w) => hay.includes(w));
    });
    if (words.length > 0 && providers.length === 0) continue;
    groups.push({ category, providers });
  }
  return groups;
}

// ---------- How a provider connects ----------

const PASTED_KEY_MODES: readonly AuthMode[] = ['api_key', 'private_app_token', 'restricted_key', 'bot_token'];

export type ConnectMethod = 'oauth' | 'key';

export type ConnectOptions = {
  /** Connect by signing in (OAuth with a loopback redirect). */
  oauth: boolean;
  /** The pasted-key mode, when the provider takes one. */
  keyMode: AuthMode | null;
  /** Which one to show first: the catalog lists the most suitable mode first. */
  preferred: ConnectMethod | null;
};

export function isOAuthMode(mode: AuthMode): boolean {
  return mode === 'oauth_public' || mode === 'oauth_confidential';
}

/**
 * What the connect panel offers. OAuth is offered unless the provider can never send the
 * browser back to this machine; the gateway has the last word (it may refuse and name the
 * key instead).
 */
export function connectOptions(provider: ProviderEntry): ConnectOptions {
  const loopback = provider.oauth?.loopback_redirect;
  const oauth =
    provider.oauth !== null &&
    provider.auth_modes.some(isOAuthMode) &&
    loopback !== 'not_allowed' &&
    loopback !== 'fixed_callback_only';
  const keyMode = provider.auth_modes.find((m) => PASTED_KEY_MODES.includes(m)) ?? null;
  let preferred: ConnectMethod | null = null;
  for (const mode of provider.auth_modes) {
    if (oauth && isOAuthMode(mode)) {
      preferred = 'oauth';
      break;
    }
    if (keyMode !== null && mode === keyMode) {
      preferred = 'key';
      break;
    }
  }
  return { oauth, keyMode, preferred };
}

/** The recommended read-only set, limited to scopes the catalog lists. */
export function defaultScopes(provider: ProviderEntry): string[] {
  const known = new Set(provider.scopes.map((s) => s.scope));
  return provider.read_only_scopes.filter((s) => known.has(s));
}

/** Ticked scopes in catalog order (what the gateway stores). */
export function orderedScopes(provider: ProviderEntry, ticked: ReadonlySet<string>): string[] {
  return provider.scopes.map((s) => s.scope).filter((s) => ticked.has(s));
}

export function tierWords(tier: Tier): string {
  switch (tier) {
    case 'read':
      return 'read';
    case 'write':
      return 'write';
    case 'delete':
      return 'delete';
  }
}

// ---------- Forms ----------

export type KeyForm = { label: string; key: string; scopes: readonly string[] };
export type FormErrors = Partial<Record<'label' | 'key' | 'scopes', string>>;

export function validateLabel(label: string): string | null {
  const trimmed = label.trim();
  if ([...trimmed].length > LABEL_MAX) return `Keep the name to ${LABEL_MAX} characters or fewer.`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return 'The name must be on one line.';
  return null;
}

/** What is wrong with the key form, per field; empty when it can be sent. */
export function validateKeyForm(form: KeyForm, provider: ProviderEntry, mode: AuthMode): FormErrors {
  const errors: FormErrors = {};
  const label = validateLabel(form.label);
  if (label) errors.label = label;
  const key = form.key.trim();
  if (key === '') errors.key = `Paste the ${keyNoun(mode)}.`;
  else if (/\s/.test(key)) errors.key = `A ${keyNoun(mode)} has no spaces or line breaks; copy it again.`;
  if (provider.scopes.length > 0 && form.scopes.length === 0) {
    errors.scopes = 'Tick at least one permission the key was given.';
  }
  return errors;
}

/** Scope checklist for sign-in: at least one when the provider lists any. */
export function validateOAuthForm(label: string, scopes: readonly string[], provider: ProviderEntry): FormErrors {
  const errors: FormErrors = {};
  const l = validateLabel(label);
  if (l) errors.label = l;
  if (provider.scopes.length > 0 && scopes.length === 0) errors.scopes = 'Tick at least one permission to ask for.';
  return errors;
}

/** "" → null (no schedule); "90" → 90; anything else → an error message. */
export function parseRotationDays(text: string): { days: number | null } | { error: string } {
  const t = text.trim();
  if (t === '') return { days: null };
  if (!/^\d+$/.test(t)) return { error: 'Enter a whole number of days, or leave it empty for no schedule.' };
  const days = Number(t);
  if (days < 1 || days > ROTATION_MAX_DAYS) return { error: `Choose from 1 to ${ROTATION_MAX_DAYS} days.` };
  return { days };
}

// ---------- Connection status ----------

export type Tone = 'good' | 'warn' | 'bad' | 'neutral';

export type StatusView = { words: string; tone: Tone; detail: string | null };

/** The last error's code in plain words. */
export function lastErrorWords(code: string): string {
  switch (code) {
    case 'provider_refused_key':
    case 'provider_refused':
      return 'The tool refused the stored key or sign-in.';
    case 'provider_unreachable':
      return 'The tool could not be reached.';
    case 'provider_error':
      return 'The tool answered with an error.';
    case 'keychain_missing':
      return 'The key is missing from the system keychain.';
    case 'refresh_failed':
      return 'The sign-in could not be renewed.';
    default:
      return 'The last check failed.';
  }
}

export function statusView(c: ConnectionInfo): StatusView {
  switch (c.status) {
    case 'healthy':
      return {
        words: c.rotation_due ? 'Connected · key due for rotation' : 'Connected',
        tone: c.rotation_due ? 'warn' : 'good',
        detail: c.rotation_due
          ? `The key is ${c.key_age_days} days old and the schedule says every ${c.rotate_every_days ?? '?'} days: make a new key at the tool and connect it again.`
          : null,
      };
    case 'error':
      return { words: 'Error', tone: 'bad', detail: c.last_error ? lastErrorWords(c.last_error.code) : 'The last check failed.' };
    case 'reconnect_needed':
      return {
        words: 'Reconnect needed',
        tone: 'bad',
        detail: `${c.last_error ? lastErrorWords(c.last_error.code) + ' ' : ''}Connect the account again${c.auth_mode && isOAuthMode(c.auth_mode) ? '' : ' with a new key'}.`,
      };
    case 'removed':
      return { words: 'Removed', tone: 'neutral', detail: null };
  }
}

/** Connections to show: removed ones only when asked, newest first within a provider. */
export function visibleConnections(all: readonly ConnectionInfo[], showRemoved: boolean): ConnectionInfo[] {
  return all.filter((c) => showRemoved || c.status !== 'removed').sort((a, b) => b.created_at_ms - a.created_at_ms);
}

export function connectionsByProvider(all: readonly ConnectionInfo[]): Map<string, ConnectionInfo[]> {
  const map = new Map<string, ConnectionInfo[]>();
  for (const c of all) {
    const list = map.get(c.provider);
    if (list) list.push(c);
    else map.set(c.provider, [c]);
  }
  return map;
}

export function keyAgeWords(days: number): string {
  if (days <= 0) return 'set today';
  return days === 1 ? '1 day old' : `${days} days old`;
}

export function rotationWords(everyDays: number | null): string {
  if (everyDays === null) return 'No schedule';
  return everyDays === 1 ? 'Every day' : `Every ${everyDays} days`;
}

/** How a pasted key and an OAuth grant end when disconnected. */
export function disconnectWords(c: ConnectionInfo, providerName: string): string {
  if (isOAuthMode(c.auth_mode)) {
    return `Switchboard asks ${providerName} to revoke the sign-in it granted, then deletes the token from this computer's keychain. Agents lose access at once.`;
  }
  return `Switchboard deletes the key from this computer's keychain and agents lose access at once. The key itself stays valid at ${providerName} until you revoke it there.`;
}

// ---------- OAuth sign-in ----------

export type FlowView = { words: string; tone: Tone; done: boolean };

export function flowView(status: OAuthFlowStatus): FlowView {
  switch (status.status) {
    case 'pending':
      return { words: 'Finish signing in in your browser…', tone: 'neutral', done: false };
    case 'connected':
      return { words: `Connected as “${status.connection.label}”.`, tone: 'good', done: true };
    case 'expired':
      return { words: 'The sign-in took too long and expired. Nothing was connected; start again.', tone: 'warn', done: true };
    case 'failed':
      if (status.code === 'consent_denied') {
        return { words: 'Access was declined in the browser, so nothing was connected.', tone: 'bad', done: true };
      }
      return { words: `Signing in failed, so nothing was connected: ${status.message}`, tone: 'bad', done: true };
  }
}

// ---------- Rate limits ----------

export function windowWords(perMs: number): string {
  const s = perMs / 1000;
  if (s < 1) return `${perMs} ms`;
  if (s === 1) return 'second';
  if (s < 60) return `${s} seconds`;
  if (s === 60) return 'minute';
  if (s < 3600) return `${Math.round(s / 60)} minutes`;
  if (s === 3600) return 'hour';
  if (s === 86_400) return 'day';
  return `${Math.round(s / 3600)} hours`;
}

export type LimitFacts = { budget: string; queued: string; throttled: string; paused: string | null };

export function limitFacts(s: LimiterStatus): LimitFacts {
  return {
    budget: `${s.budget_left} of ${s.budget_requests} left per ${windowWords(s.budget_per_ms)}`,
    queued: `${s.calls_queued} waiting, ${s.calls_in_flight} in flight`,
    throttled: `${s.recent_429s} “slow down” ${s.recent_429s === 1 ? 'answer' : 'answers'} in the last ${windowWords(s.recent_429s_window_secs * 1000)}`,
    paused: s.paused_for_ms !== null && s.paused_for_ms > 0 ? `Paused by the tool for ${Math.ceil(s.paused_for_ms / 1000)} s` : null,
  };
}

export function limitsById(all: readonly ConnectionLimits[]): Map<string, LimiterStatus> {
  return new Map(all.map((l) => [l.connection, l.status]));
}
