import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  toFailure,
  type AccessRequestInfo,
  type AgentInfo,
  type ApiFailure,
  type ConnectionInfo,
  type GatewayStatus,
  type GrantInfo,
  type NewAgent,
  type Tier,
} from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { formatLocalTime, formatRelative } from '../../lib/format';
import { agentNameProblem, grantLimits, grantMatrix, TIER_HELP, TIER_WORDS, TIERS } from './agent-logic';
import { CopyButton, McpSetup } from './McpSetup';
import { PauseSwitch } from './PauseSwitch';
import { useLive } from '../../lib/useLive';

/** Requests, last-seen times and grants made elsewhere (CLI, another window) refresh this often. */
const POLL_MS = 5_000;

type Loaded = {
  agents: AgentInfo[];
  connections: ConnectionInfo[];
  grants: GrantInfo[];
  requests: AccessRequestInfo[];
  status: GatewayStatus;
};

async function loadAll(): Promise<Loaded> {
  const [agents, connections, grants, requests, status] = await Promise.all([
    api.agents(),
    api.connections(),
    api.grants(),
    api.requests('pending'),
    api.status(),
  ]);
  return { agents, connections, grants, requests, status };
}

export function AgentsScreen() {
  const [data, setData] = useState<Loaded | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [actionFailure, setActionFailure] = useState<ApiFailure | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [created, setCreated] = useState<NewAgent | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const seq = useRef(0);

  const reload = useCallback((): Promise<void> => {
    const mine = ++seq.current;
    return loadAll().then(
      (loaded) => {
        if (mine !== seq.current) return;
        setData(loaded);
        setFailure(null);
        setNow(Date.now());
      },
      (reason: unknown) => {
        if (mine === seq.current) setFailure(toFailure(reason));
      },
    );
  }, []);

  useEffect(() => {
    void reload();
    const timer = window.setInterval(() => void reload(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [reload]);
  // A grant set or revoked elsewhere, or one that lapsed, shows at once rather than at the next poll.
  useLive(['grants'], () => void reload());

  // Keep a live agent selected: the one just made, else the first active one.
  const active = useMemo(() => (data ? data.agents.filter((a) => a.revoked_at_ms === null) : []), [data]);
  useEffect(() => {
    if (!data) return;
    if (selected !== null && (active.some((a) => a.name === selected) || created?.name === selected)) return;
    setSelected(active[0]?.name ?? null);
  }, [data, active, selected, created]);

  /** Runs one change, shows its failure in the gateway's words, then reloads (resolved once the screen shows the result). */
  const act = useCallback(
    async <T,>(work: () => Promise<T>): Promise<T | null> => {
      setActionFailure(null);
      try {
        return await work();
      } catch (reason) {
        setActionFailure(toFailure(reason));
        return null;
      } finally {
        await reload();
      }
    },
    [reload],
  );

  return (
    <>
      <ScreenHeader title="Agents" subtitle="The AI assistants and scripts that work through Switchboard, and what each one may do.">
        <PauseSwitch enabled={data !== null} testId="agents-pause-switch" />
      </ScreenHeader>

      {failure && <FailureNotice failure={failure} onRetry={() => void reload()} testId="agents-failure" />}
      {actionFailure && <FailureNotice failure={actionFailure} testId="agents-action-failure" />}
      {data === null && !failure && <p class="muted">Loading your agents…</p>}

      {data && (
        <div class="agents-layout">
          <RequestsPanel requests={data.requests} now={now} act={act} />

          <section class="card agents-card" aria-labelledby="agents-list-title">
            <h2 class="card-title" id="agents-list-title">
              Agents
            </h2>
            <AddAgentForm
              taken={data.agents.map((a) => a.name)}
              onCreated={(agent) => {
                setCreated(agent);
                setSelected(agent.name);
                void reload();
              }}
            />
            {created && <TokenOnce agent={created} onDismiss={() => setCreated(null)} />}
            <AgentTable agents={data.agents} selected={selected} now={now} onSelect={setSelected} act={act} />
          </section>

          {selected !== null && (
            <GrantsMatrix agent={selected} connections={data.connections} grants={data.grants} act={act} />
          )}

          {selected !== null && (
            <McpSetup
              agent={selected}
              gatewayUrl={data.status.url}
              dataDir={data.status.data_dir}
              token={created !== null && created.name === selected ? created.token : null}
            />
          )}
        </div>
      )}
    </>
  );
}

type Act = <T>(work: () => Promise<T>) => Promise<T | null>;

function AddAgentForm({ taken, onCreated }: { taken: string[]; onCreated: (a: NewAgent) => void }) {
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const trimmed = name.trim();
  const problem = agentNameProblem(trimmed) ?? (taken.includes(trimmed) ? 'An agent already has this name.' : null);
  const submit = (e: Event) => {
    e.preventDefault();
    setTouched(true);
    if (problem !== null) return;
    setBusy(true);
    setFailure(null);
    api
      .agentAdd(trimmed)
      .then(
        (agent) => {
          setName('');
          setTouched(false);
          onCreated(agent);
        },
        (reason: unknown) => setFailure(toFailure(reason)),
      )
      .finally(() => setBusy(false));
  };
  return (
    <form class="inline-form agent-add" onSubmit={submit} data-testid="agent-add-form">
      <div class="field field-grow">
        <label for="agent-name">New agent's name</label>
        <input
          id="agent-name"
          value={name}
          placeholder="e.g. sales-assistant"
          autocomplete="off"
          spellcheck={false}
          aria-invalid={touched && problem !== null}
          aria-describedby="agent-name-hint"
          data-testid="agent-name"
          onInput={(e) => setName(e.currentTarget.value)}
        />
        {touched && problem !== null ? (
          <p class="field-error" id="agent-name-hint" data-testid="agent-name-error">
            {problem}
          </p>
        ) : (
          <p class="field-hint" id="agent-name-hint">
            Letters, digits, dots, dashes and underscores. The agent gets its own key, shown once.
          </p>
        )}
      </div>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy} data-testid="agent-add">
          {busy ? 'Adding…' : 'Add agent'}
        </button>
      </div>
      {failure && <FailureNotice failure={failure} testId="agent-add-failure" />}
    </form>
  );
}

/** The new agent's token, this once: copy it now; it is never stored here or shown again. */
function TokenOnce({ agent, onDismiss }: { agent: NewAgent; onDismiss: () => void }) {
  return (
    <div class="notice notice-good token-once" role="status" data-testid="new-agent-token-panel">
      <div>
        <p class="notice-title">Agent “{agent.name}” is ready. Copy its key now.</p>
        <p class="notice-hint">
          This is the only time the key is shown. Give it to the assistant (the setup below already contains it while this
          box is open). If it gets lost, revoke the agent and add a new one.
        </p>
        <div class="token-line">
          <code class="token-value" data-testid="new-agent-token">
            {agent.token}
          </code>
          <CopyButton text={agent.token} label="Copy key" testId="copy-token" />
        </div>
      </div>
      <button type="button" class="button button-quiet" onClick={onDismiss} data-testid="dismiss-token">
        I have copied it
      </button>
    </div>
  );
}

function AgentTable({
  agents,
  selected,
  now,
  onSelect,
  act,
}: {
  agents: AgentInfo[];
  selected: string | null;
  now: number;
  onSelect: (name: string) => void;
  act: Act;
}) {
  const [confirming, setConfirming] = useState<string | null>(null);
  if (agents.length === 0) {
    return (
      <p class="muted table-empty" data-testid="agents-empty">
        No agents yet. Add one above, then give it access to the tools it needs.
      </p>
    );
  }
  const sorted = agents.slice().sort((a, b) => Number(a.revoked_at_ms !== null) - Number(b.revoked_at_ms !== null) || a.name.localeCompare(b.name));
  return (
    <div class="table-scroll">
      <table class="audit-table agents-table" data-testid="agents-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Added</th>
            <th scope="col">Last active</th>
            <th scope="col">State</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((a) => {
            const revoked = a.revoked_at_ms !== null;
            return (
              <tr
                key={a.name}
                data-testid="agent-row"
                data-agent={a.name}
                data-state={revoked ? 'revoked' : 'active'}
                class={a.name === selected ? 'selected' : undefined}
              >
                <td>
                  {revoked ? (
                    <span class="agent-name">{a.name}</span>
                  ) : (
                    <button
                      type="button"
                      class="link-button agent-name"
                      aria-pressed={a.name === selected}
                      onClick={() => onSelect(a.name)}
                      data-testid="agent-select"
                      title="Show this agent's access and setup"
                    >
                      {a.name}
                    </button>
                  )}
                </td>
                <td title={formatLocalTime(a.created_at_ms)}>{formatRelative(a.created_at_ms, now)}</td>
                <td title={a.last_seen_ms === null ? undefined : formatLocalTime(a.last_seen_ms)}>
                  {a.last_seen_ms === null ? <span class="muted">never</span> : formatRelative(a.last_seen_ms, now)}
                </td>
                <td>
                  {revoked ? (
                    <span class="pill tone-text-bad" data-testid="agent-state">
                      revoked {formatRelative(a.revoked_at_ms ?? now, now)}
                    </span>
                  ) : (
                    <span class="pill tone-text-good" data-testid="agent-state">
                      active
                    </span>
                  )}
                </td>
                <td class="row-actions">
                  {!revoked && confirming !== a.name && (
                    <button type="button" class="button button-small button-danger" onClick={() => setConfirming(a.name)} data-testid="agent-revoke">
                      Revoke
                    </button>
                  )}
                  {!revoked && confirming === a.name && (
                    <span class="confirm-inline" role="group" aria-label={`Revoke ${a.name}?`} data-testid="agent-revoke-confirm">
                      <span>Its key stops working at once. Revoke?</span>
                      <button
                        type="button"
                        class="button button-small button-danger"
                        data-testid="agent-revoke-yes"
                        onClick={() => {
                          setConfirming(null);
                          void act(() => api.agentRevoke(a.name));
                        }}
                      >
                        Yes, revoke
                      </button>
                      <button type="button" class="button button-small button-quiet" onClick={() => setConfirming(null)}>
                        Keep
                      </button>
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function GrantsMatrix({ agent, connections, grants, act }: { agent: string; connections: ConnectionInfo[]; grants: GrantInfo[]; act: Act }) {
  const rows = useMemo(() => grantMatrix(connections, grants, agent), [connections, grants, agent]);
  // A box shows what was clicked while the gateway works on it, then what the gateway holds.
  const [busy, setBusy] = useState<{ key: string; checked: boolean } | null>(null);
  const toggle = (connection: string, tier: Tier, granted: boolean) => {
    const key = `${connection}/${tier}`;
    setBusy({ key, checked: !granted });
    const work = granted
      ? (): Promise<unknown> => api.grantRevoke(agent, connection, tier)
      : (): Promise<unknown> => api.grantSet({ agent, connection, tier, actions: null, expires_at_ms: null });
    void act(work).finally(() => setBusy(null));
  };
  return (
    <section class="card agents-card" aria-labelledby="grants-title" data-testid="grants-matrix" data-agent={agent}>
      <h2 class="card-title" id="grants-title">
        What “{agent}” may do
      </h2>
      <p class="card-intro muted">
        Tick what this agent may do in each connected tool. Read lets it {TIER_HELP.read}; write lets it {TIER_HELP.write}; delete lets it{' '}
        {TIER_HELP.delete}. A change applies to its very next request.
      </p>
      {rows.length === 0 ? (
        <p class="muted table-empty" data-testid="grants-empty">
          No tools are connected yet. Connect one on the <a href="#/connections">Connections</a> screen first.
        </p>
      ) : (
        <div class="table-scroll">
          <table class="audit-table grants-table">
            <thead>
              <tr>
                <th scope="col">Connection</th>
                {TIERS.map((t) => (
                  <th scope="col" key={t} class="grant-col">
                    {TIER_WORDS[t]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.connection.id} data-testid="grant-row" data-connection={row.connection.id}>
                  <th scope="row">
                    <span class="grant-conn">{row.connection.label}</span>
                    <span class="muted connection-id">{row.connection.id}</span>
                  </th>
                  {row.cells.map((cell) => {
                    const granted = cell.grant !== null;
                    const limits = cell.grant ? grantLimits(cell.grant, formatLocalTime) : '';
                    const id = `grant-${row.connection.id}-${cell.tier}`;
                    const pending = busy !== null && busy.key === `${cell.connection}/${cell.tier}`;
                    return (
                      <td key={cell.tier} class="grant-col">
                        <input
                          type="checkbox"
                          id={id}
                          checked={pending ? busy.checked : granted}
                          disabled={pending}
                          aria-busy={pending}
                          aria-label={`${agent} may ${cell.tier} in ${row.connection.label}`}
                          data-testid="grant-cell"
                          data-connection={cell.connection}
                          data-tier={cell.tier}
                          onChange={() => toggle(cell.connection, cell.tier, granted)}
                        />
                        {limits !== '' && (
                          <span class={cell.grant?.expired ? 'grant-limits tone-text-bad' : 'grant-limits muted'} data-testid="grant-limits">
                            {limits}
                          </span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RequestsPanel({ requests, now, act }: { requests: AccessRequestInfo[]; now: number; act: Act }) {
  return (
    <section class="card agents-card" aria-labelledby="requests-title" data-testid="access-requests">
      <h2 class="card-title" id="requests-title">
        Access requests{requests.length > 0 ? ` (${requests.length})` : ''}
      </h2>
      {requests.length === 0 ? (
        <p class="muted table-empty" data-testid="requests-empty">
          No agent is asking for more access. When one does, its reason shows here for you to grant or dismiss.
        </p>
      ) : (
        <ul class="request-list">
          {requests.map((r) => (
            <li key={r.id} class="request-item" data-testid="access-request" data-request={r.id}>
              <div>
                <p>
                  <strong>{r.agent}</strong> asks to <strong>{r.tier}</strong> in <strong>{r.connection}</strong>
                  {r.actions !== null && <> (only {r.actions.join(', ')})</>}
                  <span class="muted"> · {formatRelative(r.created_at_ms, now)}</span>
                </p>
                <blockquote class="request-reason" data-testid="access-request-reason">
                  {r.reason}
                </blockquote>
              </div>
              <div class="draft-actions">
                <button type="button" class="button button-primary button-small" data-testid="request-grant" onClick={() => void act(() => api.requestGrant(r.id))}>
                  Grant
                </button>
                <button type="button" class="button button-small" data-testid="request-dismiss" onClick={() => void act(() => api.requestDismiss(r.id))}>
                  Dismiss
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
