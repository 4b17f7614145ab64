export type RouteId =
  | 'connections'
  | 'scopes'
  | 'approvals'
  | 'rate-limits'
  | 'audit'
  | 'agents'
  | 'planner'
  | 'settings';

export type Route = { id: RouteId; label: string };

export const ROUTES: readonly Route[] = [
  { id: 'connections', label: 'Connections' },
  { id: 'scopes', label: 'Scopes' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'rate-limits', label: 'Rate limits' },
  { id: 'audit', label: 'Audit' },
  { id: 'agents', label: 'Agents' },
  { id: 'planner', label: 'Planner' },
  { id: 'settings', label: 'Settings' },
];

export const DEFAULT_ROUTE: RouteId = 'audit';

/** `#/audit` → 'audit'; anything unknown → the default route. */
export function parseRoute(hash: string): RouteId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  const match = ROUTES.find((r) => r.id === id);
  return match ? match.id : DEFAULT_ROUTE;
}

export function routeHref(id: RouteId): string {
  return `#/${id}`;
}

/** A query parameter of the hash route: `#/scopes?connection=ID` → `ID` for `connection`; null when absent or empty. */
export function routeParam(hash: string, name: string): string | null {
  const q = hash.indexOf('?');
  if (q < 0) return null;
  const value = new URLSearchParams(hash.slice(q + 1)).get(name);
  return value === null || value === '' ? null : value;
}

/** A link to a screen with one value for it, e.g. the Scopes screen opened on one connection. */
export function routeHrefWith(id: RouteId, name: string, value: string): string {
  return `#/${id}?${new URLSearchParams({ [name]: value }).toString()}`;
}

/** Where one action's causal chain is shown (`id`: a call id or an approval id). */
export function chainHref(id: string): string {
  return `#/audit?chain=${encodeURIComponent(id)}`;
}
