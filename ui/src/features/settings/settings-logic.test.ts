import { describe, expect, it } from 'vitest';
import type { AgentInfo, ConnectionInfo, Policy } from '../../api';
import { activeAgents, policyHeadline, policyRules, rotatable, validatePolicyText } from './settings-logic';

const policy: Policy = {
  id: 'invoices',
  name: 'Invoice delivery',
  agent: 'billing-bot',
  actions: ['stripe_send_invoice'],
  conditions: {
    recipient_domains: null,
    recipient_has_booked_meeting: null,
    template_tag: null,
    amount_at_most: { minor_units: 50_000, currency: 'usd' },
    channels: null,
  },
  caps: { per_hour: 5, per_day: 20 },
  window: { days: ['mon', 'fri'], start: '09:00', end: '17:00' },
  enabled: true,
};

describe('policies in words', () => {
  it('says each rule a policy sets, and only those', () => {
    expect(policyRules(policy)).toEqual(['only amounts up to USD 500.00', 'at most 5 an hour and 20 a day', 'Mon, Fri, 09:00–17:00']);
  });

  it('names the agent and what it may do alone, and says when it is switched off', () => {
    expect(policyHeadline(policy)).toBe('billing-bot may send invoice (stripe) without asking');
    expect(policyHeadline({ ...policy, enabled: false })).toContain('(switched off)');
  });

  it('lists recipients, meetings, templates and channels when set', () => {
    const rules = policyRules({
      ...policy,
      conditions: { recipient_domains: ['acme.com'], recipient_has_booked_meeting: true, template_tag: 'confirm', amount_at_most: null, channels: ['C1'] },
      caps: { per_hour: null, per_day: 3 },
      window: null,
    });
    expect(rules).toEqual([
      'only to addresses at acme.com',
      'only to people with a booked meeting',
      'only messages made from the “confirm” template',
      'only in channel C1',
      'at most 3 a day',
    ]);
  });
});

describe('what the form offers and accepts', () => {
  it('offers only agents that are not revoked, by name', () => {
    const a = (name: string, revoked: number | null): AgentInfo => ({ name, created_at_ms: 0, revoked_at_ms: revoked, last_seen_ms: null });
    expect(activeAgents([a('zed', null), a('old', 5), a('amy', null)])).toEqual(['amy', 'zed']);
  });

  it('refuses an empty policy before sending it', () => {
    expect(validatePolicyText('  \n')).not.toBeNull();
    expect(validatePolicyText('id = "x"')).toBeNull();
  });
});

describe('rotation schedules', () => {
  it('are offered for live pasted keys only, not for sign-ins or removed connections', () => {
    const c = (id: string, auth_mode: ConnectionInfo['auth_mode'], status: ConnectionInfo['status']) =>
      ({ id, label: id, auth_mode, status }) as ConnectionInfo;
    const shown = rotatable([c('b', 'private_app_token', 'healthy'), c('a', 'api_key', 'error'), c('o', 'oauth_public', 'healthy'), c('r', 'api_key', 'removed')]);
    expect(shown.map((x) => x.id)).toEqual(['a', 'b']);
  });
});
