// What the Scopes screen decides, kept apart from rendering so it can be tested: which
// permissions and agent grants to flag, what one-click removal sends, and the plain words.
import type { AuthMode, ConnectionInfo, ScopeChecklist, ScopeItem, Tier, TierItem } from '../../api';
import { isOAuthMode } from '../connections/connection-logic';

/** Held by the connection but no agent used it in the last 30 days: offered for removal. */
export function flaggedScopes(list: ScopeChecklist): ScopeItem[] {
  return list.scopes.filter((s) => s.granted && s.unused);
}

/** An agent's tier on this connection that it did not use in the last 30 days. */
export function flaggedTiers(list: ScopeChecklist): TierItem[] {
  return list.grants.filter((g) => g.unused);
}

/**
 * The scopes to send (`PUT connections/{id}/scopes`) so the connection holds everything it holds
 * now except `scope`, in the order it holds them. Refuses a scope it does not hold, so a stale
 * screen can never widen what a connection holds.
 */
export function scopesWithout(connection: Pick<ConnectionInfo, 'granted_scopes'>, scope: string): string[] | { error: string } {
  if (!connection.granted_scopes.includes(scope)) {
    return { error: `This connection no longer holds “${scope}”; the list was out of date and has been refreshed.` };
  }
  return connection.granted_scopes.filter((s) => s !== scope);
}

/** The tools a permission serves, as a person reads them: `hubspot_list_contacts` → "list contacts". */
export function actionWords(tool: string, provider: string): string {
  const base = provider.replace(/-sandbox$/, '');
  const rest = tool.startsWith(`${base}_`) ? tool.slice(base.length + 1) : tool;
  return rest.replace(/[_-]/g, ' ');
}

export type UseView = { words: string; tone: 'good' | 'warn' | 'neutral' };

export function scopeUse(item: ScopeItem): UseView {
  if (!item.granted) return { words: 'Not held', tone: 'neutral' };
  if (item.used_last_30_days) return { words: 'Used in the last 30 days', tone: 'good' };
  return { words: 'Not used in 30 days', tone: 'warn' };
}

export function tierUse(item: TierItem): UseView {
  return item.used_last_30_days
    ? { words: 'Used in the last 30 days', tone: 'good' }
    : { words: 'Not used in 30 days', tone: 'warn' };
}

/** What each tier lets an agent do, in a few plain words. */
export function tierMeaning(tier: Tier): string {
  switch (tier) {
    case 'read':
      return 'look things up';
    case 'write':
      return 'create, change and send things';
    case 'delete':
      return 'delete things or take them back';
  }
}

/**
 * What removing a permission does, honestly: Switchboard stops agents using it at once; what
 * stays at the provider depends on how the account was connected.
 */
export function scopeRemovalWords(mode: AuthMode, providerName: string): string {
  if (isOAuthMode(mode)) {
    return (
      `Removing a permission stops every agent from using it through Switchboard at once. ` +
      `${providerName} still lists it on the sign-in you gave it until you disconnect this account; ` +
      `to give it back later, connect the account again.`
    );
  }
  return (
    `Removing a permission stops every agent from using it through Switchboard at once. ` +
    `The key itself keeps the permission at ${providerName}: to take it away there too, edit the key's permissions at ${providerName}.`
  );
}

export function tierRemovalWords(item: TierItem): string {
  return `Takes ${item.tier} access away from “${item.agent}” on this connection; its very next ${item.tier} call is refused. It can ask again, and you decide.`;
}

/** One line over the checklist: what needs attention, or that nothing does. */
export function checklistSummary(list: ScopeChecklist): { words: string; attention: boolean } {
  const scopes = flaggedScopes(list).length;
  const tiers = flaggedTiers(list).length;
  if (scopes === 0 && tiers === 0) {
    return { words: 'Everything this connection holds was used in the last 30 days.', attention: false };
  }
  const parts: string[] = [];
  if (scopes > 0) parts.push(`${scopes} ${scopes === 1 ? 'permission' : 'permissions'} no agent used`);
  if (tiers > 0) parts.push(`${tiers} agent ${tiers === 1 ? 'grant' : 'grants'} not used`);
  return { words: `In the last 30 days: ${parts.join(' and ')}. Remove what is not needed.`, attention: true };
}

/** Connections the checklist can be shown for (not removed), labelled for a picker. */
export function pickableConnections(all: readonly ConnectionInfo[]): ConnectionInfo[] {
  return all.filter((c) => c.status !== 'removed').sort((a, b) => a.label.localeCompare(b.label) || a.id.localeCompare(b.id));
}

/** The checklist split for reading: what the connection holds (unused first), and what it does not. */
export function splitByHeld(list: ScopeChecklist): { held: ScopeItem[]; notHeld: ScopeItem[] } {
  const held = list.scopes.filter((s) => s.granted);
  return {
    held: [...held.filter((s) => s.unused), ...held.filter((s) => !s.unused)],
    notHeld: list.scopes.filter((s) => !s.granted),
  };
}
