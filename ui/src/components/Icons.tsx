import type { RouteId } from '../routes';

// Simple 20×20 stroke icons for the navigation.
const PATHS: Record<RouteId, string[]> = {
  connections: ['M8.5 11.5l3-3', 'M9 6.5l1.2-1.2a2.8 2.8 0 0 1 4 4L13 10.5', 'M11 13.5l-1.2 1.2a2.8 2.8 0 0 1-4-4L7 9.5'],
  scopes: ['M4 5h3', 'M4 10h3', 'M4 15h3', 'M10 5h6', 'M10 10h6', 'M10 15h6'],
  approvals: ['M4 10.5l3.5 3.5L16 6'],
  'rate-limits': ['M3 14a7 7 0 0 1 14 0', 'M10 14l3-4'],
  audit: ['M5 3h7l3 3v11H5z', 'M8 9h5', 'M8 12h5', 'M8 15h3'],
  agents: ['M6 7h8v8H6z', 'M10 4v3', 'M8.5 11h.01', 'M11.5 11h.01'],
  planner: ['M4 5h12', 'M4 10h8', 'M4 15h5', 'M14 13l2 2-2 2'],
  settings: ['M10 7a3 3 0 1 0 0 6a3 3 0 1 0 0-6z', 'M10 2v3', 'M10 15v3', 'M2 10h3', 'M15 10h3'],
};

export function NavIcon({ id }: { id: RouteId }) {
  return (
    <svg class="nav-icon" viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" focusable="false">
      {PATHS[id].map((d) => (
        <path key={d} d={d} fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" />
      ))}
    </svg>
  );
}
