import { describe, expect, it } from 'vitest';
import type { IntegrationPlan, WorkflowPlan } from '../../api';
import { connectHref, connectionProvider, integrationSteps, nextStep, progressWords, providerFromHash } from './planner-logic';

function integration(over: Partial<IntegrationPlan> = {}): IntegrationPlan {
  return {
    provider: 'hubspot',
    name: 'HubSpot',
    role: 'Finds the lead.',
    can_connect: true,
    connect_ids: ['hubspot', 'hubspot-sandbox'],
    scopes: [{ scope: 'crm.objects.contacts.read', tier: 'read', description: 'Read contacts.', held: false }],
    tools: [{ tool: 'hubspot_search_contacts', tier: 'read', description: 'Search contacts.' }],
    tiers: ['read'],
    connection: null,
    agents: [],
    connected: false,
    scopes_held: false,
    granted: false,
    tried: false,
    ...over,
  };
}

function workflow(integrations: IntegrationPlan[]): WorkflowPlan {
  return { id: 'inbox-triage', name: 'Inbox triage', description: '', integrations, can_connect: integrations.every((i) => i.can_connect), done: false };
}

describe('planner steps', () => {
  it('lists connect, scopes, grant and try, each pointing at its screen', () => {
    const steps = integrationSteps(integration());
    expect(steps.map((s) => s.id)).toEqual(['connect', 'scopes', 'grant', 'try']);
    expect(steps.every((s) => !s.done)).toBe(true);
    expect(steps[0]!.links).toEqual([
      { label: 'Connect HubSpot', href: '#/connections?provider=hubspot' },
      { label: 'Connect the simulated HubSpot', href: '#/connections?provider=hubspot-sandbox' },
    ]);
    expect(steps[2]!.links[0]!.href).toBe('#/agents');
    expect(steps[3]!.detail).toContain('hubspot_search_contacts');
  });

  it('ticks what the gateway reports done and names what is missing', () => {
    const steps = integrationSteps(integration({ connected: true, connection: 'hubspot-sandbox-1', agents: ['sales-bot'], granted: true }));
    expect(steps.map((s) => s.done)).toEqual([true, false, true, false]);
    expect(steps[1]!.detail).toContain('crm.objects.contacts.read');
    expect(steps[1]!.links[0]!.href).toBe('#/connections?provider=hubspot-sandbox');
    expect(steps[2]!.detail).toBe('sales-bot may do this.');
  });

  it('has no steps for a tool that cannot be connected yet, and the next step skips it', () => {
    const desk = integration({ provider: 'zendesk', name: 'Zendesk', can_connect: false, connect_ids: [], tools: [], tiers: [] });
    expect(integrationSteps(desk)).toEqual([]);
    const w = workflow([desk, integration({ connected: true, connection: 'hubspot-1', scopes_held: true })]);
    expect(nextStep(w)).toEqual({ provider: 'hubspot', step: 'grant' });
    expect(progressWords(w)).toEqual({ done: 2, total: 4 });
  });

  it('is finished when every step is done', () => {
    const done = integration({ connected: true, connection: 'hubspot-1', scopes_held: true, granted: true, agents: ['a'], tried: true });
    expect(nextStep(workflow([done]))).toBeNull();
  });

  it('reads and writes the provider in the Connections address', () => {
    expect(providerFromHash(connectHref('google-calendar-sandbox'))).toBe('google-calendar-sandbox');
    expect(providerFromHash('#/connections')).toBeNull();
    expect(providerFromHash('#/connections?provider=')).toBeNull();
    expect(connectionProvider(integration({ connection: 'hubspot-1' }))).toBe('hubspot');
  });
});
