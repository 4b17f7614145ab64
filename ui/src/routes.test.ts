import { expect, it } from 'vitest';
import { DEFAULT_ROUTE, parseRoute, ROUTES } from './routes';

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
