import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  toFailure,
  type ApiFailure,
  type Catalog,
  type ConnectionInfo,
  type LimiterStatus,
  type ProviderEntry,
} from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import {
  authModeWords,
  connectionsByProvider,
  groupCatalog,
  limitsById,
  visibleConnections,
} from './connection-logic';
import { ConnectionRow } from './ConnectionRow';
import { ConnectPanel } from './ConnectPanel';
import { providerFromHash } from '../planner/planner-logic';

/** Live rate-limit figures refresh this often while the screen is open. */
const LIMITS_POLL_MS = 3_000;
/** Connection health (another window, the CLI, a token refresh) refreshes this often. */
const CONNECTIONS_POLL_MS = 15_000;

type Loaded = { catalog: Catalog; connections: ConnectionInfo[] };

export function ConnectionsScreen() {
  const [data, setData] = useState<Loaded | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [limits, setLimits] = useState<Map<string, LimiterStatus>>(new Map());
  // `#/connections?provider=hubspot` (from the Planner) opens the screen on that tool.
  const [query, setQuery] = useState(() => providerFromHash(window.location.hash) ?? '');
  useEffect(() => {
    const onHash = () => {
      const wanted = providerFromHash(window.location.hash);
      if (wanted !== null) setQuery(wanted);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const [showRemoved, setShowRemoved] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const [reload, setReload] = useState(0);
  const seq = useRef(0);

  useEffect(() => {
    const mine = ++seq.current;
    setFailure(null);
    Promise.all([api.providers(), api.connections()]).then(
      ([catalog, connections]) => {
        if (mine !== seq.current) return;
        setData({ catalog, connections });
        setNow(Date.now());
      },
      (reason: unknown) => {
        if (mine === seq.current) setFailure(toFailure(reason));
      },
    );
  }, [reload]);

  // Health and the relative times stay current.
  useEffect(() => {
    const timer = window.setInterval(() => {
      setNow(Date.now());
      api.connections().then(
        (connections) => setData((prev) => (prev ? { ...prev, connections } : prev)),
        () => {},
      );
    }, CONNECTIONS_POLL_MS);
    return () => window.clearInterval(timer);
  }, []);

  // Live budgets: one request at a time, every few seconds.
  useEffect(() => {
    let stopped = false;
    let timer = 0;
    const tick = () => {
      api.rateLimits().then(
        (all) => {
          if (!stopped) setLimits(limitsById(all));
        },
        () => {},
      ).finally(() => {
        if (!stopped) timer = window.setTimeout(tick, LIMITS_POLL_MS);
      });
    };
    tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, []);

  const upsert = useCallback((c: ConnectionInfo) => {
    setData((prev) => {
      if (!prev) return prev;
      const others = prev.connections.filter((x) => x.id !== c.id);
      return { ...prev, connections: [...others, c] };
    });
    setNow(Date.now());
  }, []);

  const groups = useMemo(() => (data ? groupCatalog(data.catalog, query) : []), [data, query]);
  const byProvider = useMemo(
    () => connectionsByProvider(data ? visibleConnections(data.connections, showRemoved) : []),
    [data, showRemoved],
  );
  // Connections whose tool is not in this gateway's catalog (a sandbox connection while the
  // gateway runs without --sandbox) still show, so nothing is hidden.
  const orphans = useMemo(() => {
    if (!data) return [];
    const known = new Set(data.catalog.providers.map((p) => p.id));
    return visibleConnections(data.connections, showRemoved).filter((c) => !known.has(c.provider));
  }, [data, showRemoved]);
  const removedCount = data ? data.connections.filter((c) => c.status === 'removed').length : 0;
  const liveCount = data ? data.connections.length - removedCount : 0;

  return (
    <>
      <ScreenHeader
        title="Connections"
        subtitle="The business tools your agents may work in. Keys and sign-ins stay in this computer's keychain."
      >
        <button type="button" class="button" onClick={() => setReload((r) => r + 1)}>
          Refresh
        </button>
      </ScreenHeader>

      {failure && <FailureNotice failure={failure} onRetry={() => setReload((r) => r + 1)} testId="connections-failure" />}

      {data === null && !failure && <p class="muted">Loading the tools you can connect…</p>}

      {data && (
        <>
          <form class="toolbar" role="search" aria-label="Find a tool" onSubmit={(e) => e.preventDefault()}>
            <div class="field field-grow">
              <label for="connections-search">Find a tool</label>
              <input
                id="connections-search"
                type="search"
                placeholder="HubSpot, email, API key…"
                autocomplete="off"
                spellcheck={false}
                value={query}
                data-testid="connections-search"
                onInput={(e) => setQuery(e.currentTarget.value)}
              />
            </div>
            <label class="checkbox-field">
              <input
                type="checkbox"
                checked={showRemoved}
                onChange={(e) => setShowRemoved(e.currentTarget.checked)}
                data-testid="show-removed"
              />{' '}
              Show removed connections{removedCount > 0 ? ` (${removedCount})` : ''}
            </label>
          </form>

          <p class="muted summary-line" data-testid="connections-summary">
            {liveCount === 0
              ? 'Nothing connected yet: pick a tool below to connect it.'
              : `${liveCount} ${liveCount === 1 ? 'connection' : 'connections'}.`}
          </p>

          {groups.length === 0 && (
            <div class="card table-empty" data-testid="connections-no-match">
              <p class="empty-title">No tool matches “{query.trim()}”.</p>
              <button type="button" class="button" onClick={() => setQuery('')}>
                Clear search
              </button>
            </div>
          )}

          {groups.map((g) => (
            <section
              key={g.category.id}
              class="category"
              aria-labelledby={`cat-${g.category.id}`}
              data-testid="category"
              data-category={g.category.id}
            >
              <h2 id={`cat-${g.category.id}`} class="category-title">
                {g.category.name}
              </h2>
              {g.providers.length === 0 ? (
                <p class="muted">No tools in this category yet.</p>
              ) : (
                <ul class="provider-list">
                  {g.providers.map((p) => (
                    <ProviderCard
                      key={p.id}
                      provider={p}
                      categoryName={g.category.name}
                      connections={byProvider.get(p.id) ?? []}
                      limits={limits}
                      now={now}
                      onChanged={upsert}
                    />
                  ))}
                </ul>
              )}
            </section>
          ))}

          {orphans.length > 0 && (
            <section class="category" aria-labelledby="cat-other" data-testid="category-other">
              <h2 id="cat-other" class="category-title">
                Tools this gateway does not offer right now
              </h2>
              <p class="muted">
                These connections belong to tools missing from the current catalog (for example sandbox tools while the
                gateway runs without them).
              </p>
              <ul class="connection-list card provider">
                {orphans.map((c) => (
                  <ConnectionRow key={c.id} connection={c} provider={undefined} limits={limits.get(c.id)} now={now} onChanged={upsert} />
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </>
  );
}

type CardProps = {
  provider: ProviderEntry;
  categoryName: string;
  connections: ConnectionInfo[];
  limits: Map<string, LimiterStatus>;
  now: number;
  onChanged: (c: ConnectionInfo) => void;
};

function ProviderCard({ provider: p, categoryName, connections, limits, now, onChanged }: CardProps) {
  const [connecting, setConnecting] = useState(false);
  const [justConnected, setJustConnected] = useState<string | null>(null);
  const titleId = `provider-${p.id}-name`;
  const panelId = `provider-${p.id}-connect`;
  return (
    <li class="card provider" data-testid="provider" data-provider={p.id} aria-labelledby={titleId}>
      <div class="provider-head">
        <div>
          <h3 id={titleId} class="provider-name">
            {p.name}
          </h3>
          <p class="provider-meta">
            <span>{categoryName}</span>
            <span aria-hidden="true"> · </span>
            <span data-testid="provider-auth">{p.auth_modes.map(authModeWords).join(', ')}</span>
          </p>
        </div>
        <button
          type="button"
          class={`button ${connections.length === 0 && !connecting ? 'button-primary' : ''}`}
          aria-expanded={connecting}
          aria-controls={panelId}
          onClick={() => {
            setConnecting((v) => !v);
            setJustConnected(null);
          }}
          data-testid="provider-connect"
        >
          {connecting ? 'Close' : connections.some((c) => c.status !== 'removed') ? 'Connect another' : 'Connect'}
          <span class="visually-hidden"> {p.name}</span>
        </button>
      </div>
      <div id={panelId}>
        {connecting && (
          <ConnectPanel
            provider={p}
            onClose={() => setConnecting(false)}
            onConnected={(c) => {
              onChanged(c);
              setConnecting(false);
              setJustConnected(c.label);
            }}
          />
        )}
      </div>
      {justConnected && (
        <p class="notice notice-good connected-note" role="status" data-testid="connected-note">
          Connected “{justConnected}”: {p.name} accepted it and it is ready for agents you grant it to.
        </p>
      )}
      {connections.length > 0 && (
        <ul class="connection-list">
          {connections.map((c) => (
            <ConnectionRow key={c.id} connection={c} provider={p} limits={limits.get(c.id)} now={now} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </li>
  );
}
