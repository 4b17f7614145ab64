import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiFailure, onFailure, toFailure, type GatewayStatus } from './api';
import { NavIcon } from './components/Icons';
import { AgentsScreen } from './features/agents/AgentsScreen';
import { PauseSwitch } from './features/agents/PauseSwitch';
import { ApprovalsScreen } from './features/approvals/ApprovalsScreen';
import { usePendingCount } from './features/approvals/pending-count';
import { AuditScreen } from './features/audit/AuditScreen';
import { ConnectionsScreen } from './features/connections/ConnectionsScreen';
import { PlannerScreen } from './features/planner/PlannerScreen';
import { RateLimitsScreen } from './features/rate-limits/RateLimitsScreen';
import { ScopesScreen } from './features/scopes/ScopesScreen';
import { SettingsScreen } from './features/settings/SettingsScreen';
import { ApproverName } from './features/session/ApproverName';
import { SessionExpired } from './features/session/SessionExpired';
import { parseRoute, routeHref, ROUTES, type RouteId } from './routes';

/** What the header knows about the gateway. */
export type GatewayState =
  | { kind: 'checking' }
  | { kind: 'running'; status: GatewayStatus }
  | { kind: 'unreachable'; failure: ApiFailure }
  | { kind: 'error'; failure: ApiFailure };

const STATUS_POLL_MS = 15_000;

function useRoute(): RouteId {
  const [route, setRoute] = useState<RouteId>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function useGatewayState(stopped: boolean): [GatewayState, () => void] {
  const [state, setState] = useState<GatewayState>({ kind: 'checking' });
  // One status request at a time: a refresh asked for while one is in flight is dropped
  // (this also keeps the failure listener below from re-triggering itself).
  const inFlight = useRef(false);

  const refresh = useCallback(() => {
    if (inFlight.current) return;
    inFlight.current = true;
    api
      .status()
      .then(
        (status) => setState({ kind: 'running', status }),
        (reason: unknown) => {
          const failure = toFailure(reason);
          setState(failure.code === 'unreachable' ? { kind: 'unreachable', failure } : { kind: 'error', failure });
        },
      )
      .finally(() => {
        inFlight.current = false;
      });
  }, []);

  useEffect(() => {
    if (stopped) return;
    refresh();
    const timer = window.setInterval(refresh, STATUS_POLL_MS);
    return () => window.clearInterval(timer);
  }, [stopped, refresh]);

  return [state, refresh];
}

function StatusPill({ state }: { state: GatewayState }) {
  const label =
    state.kind === 'running'
      ? 'running'
      : state.kind === 'checking'
        ? 'checking…'
        : state.kind === 'unreachable'
          ? 'not reachable'
          : 'error';
  const title = state.kind === 'unreachable' || state.kind === 'error' ? state.failure.message : undefined;
  return (
    <span class={`status-pill status-${state.kind}`} title={title}>
      <span class="status-dot" aria-hidden="true" />
      <span class="visually-hidden">Gateway status: </span>
      <span data-testid="gateway-status">{label}</span>
    </span>
  );
}

function Header({ state }: { state: GatewayState }) {
  const status = state.kind === 'running' ? state.status : null;
  return (
    <header class="app-header">
      <div class="brand">
        <span class="brand-mark" aria-hidden="true">
          <svg viewBox="0 0 20 20" width="16" height="16">
            <path d="M4 6h8M4 14h4M12 6a2 2 0 1 0 4 0a2 2 0 1 0-4 0M8 14a2 2 0 1 0 4 0a2 2 0 1 0-4 0M12 14h4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
          </svg>
        </span>
        <span class="brand-name">Switchboard</span>
      </div>
      <div class="header-meta">
        <PauseSwitch enabled={state.kind === 'running'} />
        <StatusPill state={state} />
        {status && (
          <>
            <span class="header-version" data-testid="gateway-version" title="Gateway version">
              v{status.version}
            </span>
            <span class="header-url" data-testid="gateway-url" title="Gateway URL">
              {status.url}
            </span>
          </>
        )}
      </div>
    </header>
  );
}

function Nav({ current, pending }: { current: RouteId; pending: number | null }) {
  return (
    <nav class="app-nav" aria-label="Main">
      <ul>
        {ROUTES.map((r) => (
          <li key={r.id}>
            <a
              href={routeHref(r.id)}
              class={r.id === current ? 'active' : undefined}
              aria-current={r.id === current ? 'page' : undefined}
              data-testid={`nav-${r.id}`}
              aria-describedby={r.id === 'approvals' && pending ? 'nav-approvals-waiting' : undefined}
            >
              <NavIcon id={r.id} />
              <span>{r.label}</span>
              {r.id === 'approvals' && pending !== null && (
                // The link's name stays "Approvals"; the count is its description.
                <>
                  <span class="nav-count" aria-hidden="true" data-testid="nav-approvals-count" data-count={pending} hidden={pending === 0}>
                    {pending}
                  </span>
                  <span id="nav-approvals-waiting" hidden>
                    {pending} {pending === 1 ? 'draft waits' : 'drafts wait'} for approval
                  </span>
                </>
              )}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Screen({ route, gateway }: { route: RouteId; gateway: GatewayState }) {
  switch (route) {
    case 'connections':
      return <ConnectionsScreen />;
    case 'scopes':
      return <ScopesScreen />;
    case 'approvals':
      return <ApprovalsScreen />;
    case 'rate-limits':
      return <RateLimitsScreen />;
    case 'audit':
      return <AuditScreen />;
    case 'agents':
      return <AgentsScreen />;
    case 'planner':
      return <PlannerScreen />;
    case 'settings':
      return <SettingsScreen gateway={gateway} />;
  }
}

/**
 * Whether to ask for the approver's name: a browser login that has not given one yet (asked
 * once per login), or any decision the gateway refused with `approver_name_required`.
 */
function useNeedsApproverName(stopped: boolean): [boolean, () => void] {
  const [needed, setNeeded] = useState(false);
  useEffect(() => {
    if (stopped || api.transportKind() !== 'http') return;
    let live = true;
    api.session().then(
      (s) => {
        if (live && s.kind === 'browser' && s.name === null) setNeeded(true);
      },
      () => {
        // Failures reach the shell's listener (session expired, unreachable).
      },
    );
    const off = onFailure((failure) => {
      if (failure.code === 'approver_name_required') setNeeded(true);
    });
    return () => {
      live = false;
      off();
    };
  }, [stopped]);
  return [needed, useCallback(() => setNeeded(false), [])];
}

export function App() {
  const route = useRoute();
  const [sessionExpired, setSessionExpired] = useState(false);
  const [gateway, refreshGateway] = useGatewayState(sessionExpired);
  const pending = usePendingCount(!sessionExpired);
  const [needsName, named] = useNeedsApproverName(sessionExpired);

  useEffect(
    () =>
      onFailure((failure) => {
        if (failure.code === 'unauthorized') setSessionExpired(true);
        // A screen lost the gateway: update the header now rather than at the next poll.
        else if (failure.code === 'unreachable' && gateway.kind !== 'unreachable') refreshGateway();
      }),
    [gateway.kind, refreshGateway],
  );

  useEffect(() => {
    const label = ROUTES.find((r) => r.id === route)?.label ?? '';
    document.title = `${label} · Switchboard`;
  }, [route]);

  if (sessionExpired) return <SessionExpired />;

  return (
    <div class="app-shell">
      <Header state={gateway} />
      <Nav current={route} pending={pending} />
      <main class="app-main" id="main">
        {/* Keyed so each screen starts fresh when the route changes. */}
        <Screen key={route} route={route} gateway={gateway} />
      </main>
      {needsName && <ApproverName onNamed={named} />}
    </div>
  );
}
