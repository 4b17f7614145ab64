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
