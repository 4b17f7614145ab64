import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  toFailure,
  type ApiFailure,
  type Catalog,
  type ConnectionInfo,
  type ProviderEntry,
  type ProviderScope,
  type ScopeChecklist,
  type ScopeItem,
  type TierItem,
} from '../../api';
import { EmptyState } from '../../components/EmptyState';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { routeHref, routeParam } from '../../routes';
import { ScopeWords } from '../connections/ScopeChecklist';
import { tierWords } from '../connections/connection-logic';
import {
  actionWords,
  checklistSummary,
  pickableConnections,
  scopeRemovalWords,
  scopesWithout,
  scopeUse,
  splitByHeld,
  tierMeaning,
  tierRemovalWords,
  tierUse,
} from './scope-logic';

type Loaded = { catalog: Catalog; connections: ConnectionInfo[] };
/** What the last removal did, said back to the person. */
type Done = { words: string };

export function ScopesScreen() {
  const [data, setData] = useState<Loaded | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  // Opened from a connection (`#/scopes?connection=ID`): that one is shown first.
  const [selected, setSelected] = useState<string | null>(() => routeParam(window.location.hash, 'connection'));
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    setFailure(null);
    Promise.all([api.providers(), api.connections()]).then(
      ([catalog, connections]) => {
        if (!live) return;
        setData({ catalog, connections });
        const pickable = pickableConnections(connections);
        setSelected((cur) => (cur !== null && pickable.some((c) => c.id === cur) ? cur : (pickable[0]?.id ?? null)));
      },
      (reason: unknown) => {
        if (live) setFailure(toFailure(reason));
      },
    );
    return () => {
      live = false;
    };
  }, [reload]);

  const pickable = useMemo(() => (data ? pickableConnections(data.connections) : []), [data]);
  const connection = pickable.find((c) => c.id === selected) ?? null;
  const provider = connection ? data?.catalog.providers.find((p) => p.id === connection.provider) : undefined;
  const replaceConnection = useCallback((c: ConnectionInfo) => {
    setData((prev) => (prev ? { ...prev, connections: prev.connections.map((x) => (x.id === c.id ? c : x)) } : prev));
  }, []);

  return (
    <>
      <ScreenHeader
        title="Scopes"
        subtitle="What each connection lets agents do, and what nobody used in the last 30 days."
      >
        <button type="button" class="button" onClick={() => setReload((r) => r + 1)}>
          Refresh
        </button>
      </ScreenHeader>
      {failure && <FailureNotice failure={failure} onRetry={() => setReload((r) => r + 1)} testId="scopes-failure" />}
      {data === null && !failure && <p class="muted">Loading your connections…</p>}
      {data && pickable.length === 0 && (
        <EmptyState title="Nothing connected yet." testId="scopes-empty">
          <p>
            Connect a tool first on the <a href={routeHref('connections')}>Connections</a> screen. Its permissions and
            which agents use them then show here.
          </p>
        </EmptyState>
      )}
      {data && connection && (
        <>
          <form class="toolbar" onSubmit={(e) => e.preventDefault()}>
            <div class="field">
              <label for="scopes-connection">Connection</label>
              <select
                id="scopes-connection"
                data-testid="scopes-connection"
                value={connection.id}
                onChange={(e) => setSelected(e.currentTarget.value)}
              >
                {pickable.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.label} ({data.catalog.providers.find((p) => p.id === c.provider)?.name ?? c.provider})
                  </option>
                ))}
              </select>
            </div>
          </form>
          <Checklist key={connection.id} connection={connection} provider={provider} onConnectionChanged={replaceConnection} />
        </>
      )}
    </>
  );
}

type ChecklistProps = {
  connection: ConnectionInfo;
  provider: ProviderEntry | undefined;
  onConnectionChanged: (c: ConnectionInfo) => void;
};

function Checklist({ connection, provider, onConnectionChanged }: ChecklistProps) {
  const [list, setList] = useState<ScopeChecklist | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [actionFailure, setActionFailure] = useState<ApiFailure | null>(null);
  const [done, setDone] = useState<Done | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const seq = useRef(0);
  const providerName = provider?.name ?? connection.provider;

  useEffect(() => {
    const mine = ++seq.current;
    setFailure(null);
    api.connectionChecklist(connection.id).then(
      (l) => {
        if (mine === seq.current) setList(l);
      },
      (reason: unknown) => {
        if (mine === seq.current) setFailure(toFailure(reason));
      },
    );
  }, [connection.id, reload]);

  const removeScope = async (item: ScopeItem) => {
    setActionFailure(null);
    setDone(null);
    const next = scopesWithout(connection, item.scope);
    if ('error' in next) {
      setDone({ words: next.error });
      setReload((r) => r + 1);
      return;
    }
    setBusy(`scope:${item.scope}`);
    try {
      onConnectionChanged(await api.connectionSetScopes(connection.id, next));
      setDone({ words: `Removed “${item.description}”. Agents can no longer use it through Switchboard.` });
      setReload((r) => r + 1);
    } catch (reason) {
      setActionFailure(toFailure(reason));
    } finally {
      setBusy(null);
    }
  };

  const removeTier = async (item: TierItem) => {
    setActionFailure(null);
    setDone(null);
    setBusy(`tier:${item.agent}:${item.tier}`);
    try {
      await api.grantRevoke(item.agent, connection.id, item.tier);
      setDone({ words: `Took ${item.tier} access on “${connection.label}” away from “${item.agent}”.` });
      setReload((r) => r + 1);
    } catch (reason) {
      setActionFailure(toFailure(reason));
    } finally {
      setBusy(null);
    }
  };

  if (failure) return <FailureNotice failure={failure} onRetry={() => setReload((r) => r + 1)} testId="checklist-failure" />;
  if (list === null) return <p class="muted">Reading what “{connection.label}” holds…</p>;

  const summary = checklistSummary(list);
  const groups = splitByHeld(list);
  const catalogScope = (scope: string) => provider?.scopes.find((s) => s.scope === scope);

  return (
    <div data-testid="scope-report" data-connection={connection.id}>
      <p class={`notice ${summary.attention ? 'notice-warn' : 'notice-good'}`} role="status" data-testid="scopes-summary">
        {summary.words}
      </p>
      {done && (
        <p class="notice notice-good" role="status" data-testid="scopes-done">
          {done.words}
        </p>
      )}
      {actionFailure && <FailureNotice failure={actionFailure} testId="scopes-action-failure" />}

      <section class="card panel" aria-labelledby="scopes-held-heading">
        <h2 id="scopes-held-heading" class="card-title">
          Permissions of “{connection.label}”
        </h2>
        <p class="field-hint" data-testid="scope-removal-words">
          {scopeRemovalWords(connection.auth_mode, providerName)}
        </p>
        {list.scopes.length === 0 ? (
          <p class="muted">{providerName} has no permissions to choose: access is set at {providerName}.</p>
        ) : (
          <>
            {groups.held.length === 0 ? (
              <p class="muted">This connection holds no permission yet, so agents can do nothing with it.</p>
            ) : (
              <ul class="scope-report">
                {groups.held.map((s) => (
                  <ScopeRow key={s.scope} item={s} connection={connection} full={catalogScope(s.scope)} busy={busy} onRemove={removeScope} />
                ))}
              </ul>
            )}
            {groups.notHeld.length > 0 && (
              <details class="scope-more" data-testid="scopes-not-held">
                <summary>
                  {groups.notHeld.length} more {groups.notHeld.length === 1 ? 'permission' : 'permissions'} {providerName} offers
                  that this connection does not hold
                </summary>
                <ul class="scope-report">
                  {groups.notHeld.map((s) => (
                    <ScopeRow key={s.scope} item={s} connection={connection} full={catalogScope(s.scope)} busy={busy} onRemove={removeScope} />
                  ))}
                </ul>
              </details>
            )}
          </>
        )}
      </section>

      <section class="card panel" aria-labelledby="scopes-agents-heading">
        <h2 id="scopes-agents-heading" class="card-title">
          Agents allowed on “{connection.label}”
        </h2>
        {list.grants.length === 0 ? (
          <p class="muted" data-testid="scopes-no-grants">
            No agent may use this connection yet. Grant access on the <a href={routeHref('agents')}>Agents</a> screen.
          </p>
        ) : (
          <ul class="scope-report">
            {list.grants.map((g) => {
              const use = tierUse(g);
              const key = `tier:${g.agent}:${g.tier}`;
              return (
                <li
                  key={key}
                  class={`scope-row${g.unused ? ' scope-flagged' : ''}`}
                  data-testid="tier-row"
                  data-agent={g.agent}
                  data-tier={g.tier}
                  data-unused={String(g.unused)}
                >
                  <div class="scope-main">
                    <span class="scope-desc">
                      <strong>{g.agent}</strong> may {tierMeaning(g.tier)}{' '}
                      <span class={`pill tier-${g.tier}`}>{tierWords(g.tier)}</span>
                    </span>
                    {g.unused && <span class="field-hint">{tierRemovalWords(g)}</span>}
                  </div>
                  <div class="scope-state">
                    <span class={`tone-text-${use.tone}`}>{use.words}</span>
                    {g.unused && (
                      <button
                        type="button"
                        class="button button-small button-danger"
                        data-testid="tier-remove"
                        data-agent={g.agent}
                        data-tier={g.tier}
                        disabled={busy !== null}
                        onClick={() => removeTier(g)}
                      >
                        {busy === key ? 'Taking away…' : 'Take away'}
                        <span class="visually-hidden">
                          {' '}
                          {g.tier} access from {g.agent}
                        </span>
                      </button>
                    )}
                  </div>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </div>
  );
}

type ScopeRowProps = {
  item: ScopeItem;
  connection: ConnectionInfo;
  /** The catalog's entry for the scope (its note and extra tiers), when known. */
  full: ProviderScope | undefined;
  busy: string | null;
  onRemove: (item: ScopeItem) => void;
};

function ScopeRow({ item: s, connection, full, busy, onRemove }: ScopeRowProps) {
  const use = scopeUse(s);
  return (
    <li
      class={`scope-row${s.unused ? ' scope-flagged' : ''}${s.granted ? '' : ' scope-not-held'}`}
      data-testid="scope-row"
      data-scope={s.scope}
      data-granted={String(s.granted)}
      data-unused={String(s.unused)}
    >
      <div class="scope-main">
        <ScopeWords scope={full ?? { scope: s.scope, description: s.description, tier: s.tier }} />
        <span class="field-hint">
          {s.actions.length === 0
            ? 'No action of Switchboard needs it.'
            : `Needed to: ${s.actions.map((a) => actionWords(a, connection.provider)).join(', ')}.`}
        </span>
      </div>
      <div class="scope-state">
        <span class={`pill ${s.granted ? 'tone-good' : ''}`}>{s.granted ? 'Held' : 'Not held'}</span>
        {s.granted && <span class={`tone-text-${use.tone}`}>{use.words}</span>}
        {s.unused && (
          <button
            type="button"
            class="button button-small button-danger"
            data-testid="scope-remove"
            data-scope={s.scope}
            disabled={busy !== null}
            onClick={() => onRemove(s)}
          >
            {busy === `scope:${s.scope}` ? 'Removing…' : 'Remove'}
            <span class="visually-hidden"> {s.description}</span>
          </button>
        )}
      </div>
    </li>
  );
}
