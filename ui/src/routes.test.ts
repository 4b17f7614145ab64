import { expect, it } from 'vitest';
import { chainHref, DEFAULT_ROUTE, parseRoute, routeHrefWith, routeParam, ROUTES } from './routes';

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

it('carries a causal chain id in the Audit route', () => {
  expect(chainHref('apr_1')).toBe('#/audit?chain=apr_1');
  expect(parseRoute(chainHref('apr_1'))).toBe('audit');
  expect(routeParam(chainHref('call 1/2'), 'chain')).toBe('call 1/2');
  expect(routeParam('#/audit', 'chain')).toBeNull();
  expect(routeParam('#/audit?chain=', 'chain')).toBeNull();
});
