// The Planner screen's logic: the guided connect → scopes → grant → try steps of one
// integration, with what is done ticked and where each step is done in the window.
import type { IntegrationPlan, WorkflowPlan } from '../../api';

export type StepId = 'connect' | 'scopes' | 'grant' | 'try';

export type StepLink = { label: string; href: string };

export type Step = {
  id: StepId;
  title: string;
  /** What to do, or what was done, in plain words. */
  detail: string;
  done: boolean;
  /** Where the step is done; more than one for a tool with a simulated twin. */
  links: StepLink[];
};

/** `#/connections?provider=hubspot-sandbox`: the Connections screen opens on that tool. */
export function connectHref(providerId: string): string {
  return `#/connections?provider=${encodeURIComponent(providerId)}`;
}

/** The provider a `#/connections?provider=…` address asks for, or null. */
export function providerFromHash(hash: string): string | null {
  const q = hash.indexOf('?');
  if (q < 0) return null;
  const value = new URLSearchParams(hash.slice(q + 1)).get('provider');
  return value === null || value.trim() === '' ? null : value.trim();
}

/** The catalog id of the chosen connection (`hubspot-sandbox-1` → `hubspot-sandbox`), else the provider. */
export function connectionProvider(i: IntegrationPlan): string {
  const conn = i.connection;
  if (conn === null) return i.provider;
  const matches = i.connect_ids.filter((id) => conn.startsWith(`${id}-`));
  return matches.sort((a, b) => b.length - a.length)[0] ?? i.provider;
}

const tierList = (tiers: string[]) => (tiers.length <= 1 ? (tiers[0] ?? '') : `${tiers.slice(0, -1).join(', ')} and ${tiers[tiers.length - 1]}`);

/** The four steps of one integration, in order; empty when it cannot be connected yet. */
export function integrationSteps(i: IntegrationPlan): Step[] {
  if (!i.can_connect) return [];
  const connectLinks = i.connect_ids.map((id) => ({
    label: id.endsWith('-sandbox') ? `Connect the simulated ${i.name}` : `Connect ${i.name}`,
    href: connectHref(id),
  }));
  const missing = i.scopes.filter((s) => !s.held).map((s) => s.scope);
  return [
    {
      id: 'connect',
      title: `Connect ${i.name}`,
      detail: i.connected ? `Connected as ${i.connection ?? ''}.` : `Sign in to ${i.name} or paste a key, on the Connections screen.`,
      done: i.connected,
      links: connectLinks,
    },
    {
      id: 'scopes',
      title: 'Give it the permissions it needs',
      detail: i.scopes_held
        ? 'The connection holds every permission this workflow needs.'
        : i.connected
          ? `Still missing: ${missing.join(', ')}. Tick them on the connection (or reconnect with them).`
          : 'Once connected, make sure it holds the permissions listed above.',
      done: i.scopes_held,
      links: [{ label: 'Open the connection', href: connectHref(connectionProvider(i)) }],
    },
    {
      id: 'grant',
      title: `Let an agent ${tierList(i.tiers)}`,
      detail: i.granted
        ? `${i.agents.join(', ')} may do this.`
        : `On the Agents screen, tick ${tierList(i.tiers)} for ${i.connection ?? `the ${i.name} connection`}.`,
      done: i.granted,
      links: [{ label: 'Open Agents', href: '#/agents' }],
    },
    {
      id: 'try',
      title: 'Try it',
      detail: i.tried
        ? 'An agent has used it successfully.'
        : `Ask the agent to use ${i.tools.map((t) => t.tool).join(' or ')}; its first successful call ticks this.`,
      done: i.tried,
      links: [{ label: 'See what agents did', href: '#/audit' }],
    },
  ];
}

/** The first step not done, across the workflow's integrations in order; null when all are. */
export function nextStep(w: WorkflowPlan): { provider: string; step: StepId } | null {
  for (const i of w.integrations) {
    for (const s of integrationSteps(i)) if (!s.done) return { provider: i.provider, step: s.id };
  }
  return null;
}

/** "2 of 8 steps done" (connectable integrations only). */
export function progressWords(w: WorkflowPlan): { done: number; total: number } {
  const steps = w.integrations.flatMap(integrationSteps);
  return { done: steps.filter((s) => s.done).length, total: steps.length };
}
