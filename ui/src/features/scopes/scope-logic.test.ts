import { describe, expect, it } from 'vitest';
import type { ScopeChecklist } from '../../api';
import {
  actionWords,
  checklistSummary,
  flaggedScopes,
  flaggedTiers,
  pickableConnections,
  scopeRemovalWords,
  scopesWithout,
  scopeUse,
  splitByHeld,
} from './scope-logic';
import type { ConnectionInfo } from '../../api';

const list: ScopeChecklist = {
  connection: 'hubspot-sandbox-1',
  provider: 'hubspot-sandbox',
  scopes: [
    { scope: 'contacts.read', tier: 'read', description: 'Read contacts', actions: ['hubspot_list_contacts'], granted: true, used_last_30_days: true, unused: false },
    { scope: 'deals.read', tier: 'read', description: 'Read deals', actions: ['hubspot_list_deals'], granted: true, used_last_30_days: false, unused: true },
    { scope: 'contacts.write', tier: 'write', description: 'Change contacts', actions: [], granted: false, used_last_30_days: false, unused: false },
  ],
  grants: [
    { agent: 'sales-bot', tier: 'read', used_last_30_days: true, unused: false },
    { agent: 'sales-bot', tier: 'write', used_last_30_days: false, unused: true },
  ],
};

describe('the scope checklist flags', () => {
  it('flags only held permissions no agent used, and only unused agent grants', () => {
    expect(flaggedScopes(list).map((s) => s.scope)).toEqual(['deals.read']);
    expect(flaggedTiers(list).map((g) => `${g.agent}:${g.tier}`)).toEqual(['sales-bot:write']);
  });

  it('summarises what needs attention, and says so when nothing does', () => {
    const s = checklistSummary(list);
    expect(s.attention).toBe(true);
    expect(s.words).toContain('1 permission no agent used');
    expect(s.words).toContain('1 agent grant not used');
    const clean = checklistSummary({ ...list, scopes: [list.scopes[0]!], grants: [list.grants[0]!] });
    expect(clean.attention).toBe(false);
  });

  it('says whether each permission is held and used', () => {
    expect(scopeUse(list.scopes[0]!).tone).toBe('good');
    expect(scopeUse(list.scopes[1]!).words).toBe('Not used in 30 days');
    expect(scopeUse(list.scopes[2]!).words).toBe('Not held');
  });
});

describe('reading order', () => {
  it('shows held permissions first, unused ones on top, and keeps the rest apart', () => {
    const { held, notHeld } = splitByHeld(list);
    expect(held.map((s) => s.scope)).toEqual(['deals.read', 'contacts.read']);
    expect(notHeld.map((s) => s.scope)).toEqual(['contacts.write']);
  });
});

describe('one-click removal', () => {
  it('sends everything held except the removed permission, in the same order', () => {
    expect(scopesWithout({ granted_scopes: ['a', 'b', 'c'] }, 'b')).toEqual(['a', 'c']);
  });

  it('refuses to remove what is not held, so a stale screen never widens a connection', () => {
    const r = scopesWithout({ granted_scopes: ['a'] }, 'z');
    expect('error' in r, 'removing a scope the connection does not hold must be refused').toBe(true);
  });

  it('is honest about what stays at the provider', () => {
    expect(scopeRemovalWords('oauth_confidential', 'HubSpot')).toMatch(/still lists it on the sign-in/);
    expect(scopeRemovalWords('api_key', 'Stripe')).toMatch(/key itself keeps the permission at Stripe/);
  });
});

describe('plain words', () => {
  it('names a tool by what it does, without the provider prefix', () => {
    expect(actionWords('hubspot_list_contacts', 'hubspot-sandbox')).toBe('list contacts');
    expect(actionWords('google-calendar_list_events', 'google-calendar-sandbox')).toBe('list events');
    expect(actionWords('odd_tool', 'stripe')).toBe('odd tool');
  });

  it('offers only connections that are not removed, by label', () => {
    const c = (id: string, label: string, status: ConnectionInfo['status']) => ({ id, label, status }) as ConnectionInfo;
    const picked = pickableConnections([c('2', 'Zeta', 'healthy'), c('1', 'Alpha', 'error'), c('3', 'Gone', 'removed')]);
    expect(picked.map((p) => p.label)).toEqual(['Alpha', 'Zeta']);
  });
});
