import { expect, it } from 'vitest';
import { DEFAULT_ROUTE, parseRoute, routeHrefWith, routeParam, ROUTES } from './routes';

it('parses hash routes and falls back to the default', () => {
  expect(parseRoute('#/rate-limits')).toBe('rate-limits');
  expect(parseRoute('#/audit?x=1')).toBe('audit');
  expect(parseRoute('')).toBe(DEFAULT_ROUTE);
  expect(parseRoute('#/nope')).toBe(DEFAULT_ROUTE);
});

it('lists the eight screens in navigation order', () => {
  expect(ROUTES.map((r) => r.label)).toEqual([
    'Connections',
    'Scopes',
    'Approvals',
    'Rate limits',
    'Audit',
    'Agents',
    'Planner',
    'Settings',
  ]);
});

it('carries one value to a screen and reads it back, still routing to that screen', () => {
  const href = routeHrefWith('scopes', 'connection', 'hubspot-sandbox-1 &x');
  expect(parseRoute(href)).toBe('scopes');
  expect(routeParam(href, 'connection')).toBe('hubspot-sandbox-1 &x');
  expect(routeParam('#/scopes', 'connection')).toBeNull();
  expect(routeParam('#/scopes?connection=', 'connection')).toBeNull();
});
