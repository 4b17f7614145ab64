// What the Settings screen says about auto-send policies and which agents and tools it offers,
// kept apart from rendering so it can be tested.
import type { AgentInfo, ConnectionInfo, Money, Policy, ProviderEntry } from '../../api';
import { isOAuthMode } from '../connections/connection-logic';

/** Agents a policy can name: not revoked, by name. */
export function activeAgents(all: readonly AgentInfo[]): string[] {
  return all
    .filter((a) => a.revoked_at_ms === null)
    .map((a) => a.name)
    .sort((a, b) => a.localeCompare(b));
}

/** Tools whose sign-in can use the person's own registered app. */
export function oauthProviders(providers: readonly ProviderEntry[]): ProviderEntry[] {
  return providers.filter((p) => p.auth_modes.some(isOAuthMode));
}

/** Live connections made with a pasted key: the ones a rotation schedule is for (sign-ins renew themselves). */
export function rotatable(all: readonly ConnectionInfo[]): ConnectionInfo[] {
  return all.filter((c) => c.status !== 'removed' && !isOAuthMode(c.auth_mode)).sort((a, b) => a.label.localeCompare(b.label) || a.id.localeCompare(b.id));
}

export function moneyWords(m: Money): string {
  const major = m.minor_units / 100;
  return `${m.currency.toUpperCase()} ${major.toFixed(2)}`;
}

const DAY_WORDS: Record<string, string> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

/** A policy's rules as short plain sentences, in the order a person checks them. */
export function policyRules(p: Policy): string[] {
  const rules: string[] = [];
  const c = p.conditions;
  if (c.recipient_domains) rules.push(`only to addresses at ${c.recipient_domains.join(', ')}`);
  if (c.recipient_has_booked_meeting) rules.push('only to people with a booked meeting');
  if (c.template_tag) rules.push(`only messages made from the “${c.template_tag}” template`);
  if (c.amount_at_most) rules.push(`only amounts up to ${moneyWords(c.amount_at_most)}`);
  if (c.channels) rules.push(`only in ${c.channels.length === 1 ? 'channel' : 'channels'} ${c.channels.join(', ')}`);
  const caps: string[] = [];
  if (p.caps.per_hour !== null) caps.push(`${p.caps.per_hour} an hour`);
  if (p.caps.per_day !== null) caps.push(`${p.caps.per_day} a day`);
  if (caps.length > 0) rules.push(`at most ${caps.join(' and ')}`);
  if (p.window) {
    const days = p.window.days.map((d) => DAY_WORDS[d] ?? d).join(', ');
    rules.push(`${days}, ${p.window.start}–${p.window.end}`);
  }
  return rules;
}

/** A tool name (`{provider}_{action}`) as words: `gmail_send_message` → "send message (gmail)". */
export function toolWords(tool: string): string {
  const cut = tool.indexOf('_');
  if (cut <= 0) return tool.replace(/_/g, ' ');
  return `${tool.slice(cut + 1).replace(/_/g, ' ')} (${tool.slice(0, cut)})`;
}

/** One line: who may do what alone. */
export function policyHeadline(p: Policy): string {
  const what = p.actions.map(toolWords).join(', ');
  return `${p.agent} may ${what} without asking${p.enabled ? '' : ' (switched off)'}`;
}

/** The text box must hold something before it is sent; the gateway checks the rest. */
export function validatePolicyText(text: string): string | null {
  if (text.trim() === '') return 'Pick a ready-made policy or write one first.';
  if (text.length > 64_000) return 'That is too long for one policy.';
  return null;
}
