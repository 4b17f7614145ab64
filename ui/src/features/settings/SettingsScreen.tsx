import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import {
  api,
  toFailure,
  type ApiFailure,
  type ConnectionInfo,
  type PolicyInfo,
  type PolicyPreset,
  type ProviderEntry,
} from '../../api';
import type { GatewayState } from '../../app';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { formatCount, formatLocalTime, formatRelative } from '../../lib/format';
import { routeHref } from '../../routes';
import { OwnOAuthApp } from '../connections/ConnectPanel';
import { RotationEditor } from '../connections/ConnectionRow';
import { keyAgeWords } from '../connections/connection-logic';
import { activeAgents, oauthProviders, policyHeadline, policyRules, rotatable, validatePolicyText } from './settings-logic';

export function SettingsScreen({ gateway }: { gateway: GatewayState }) {
  const [now] = useState(() => Date.now());
  const transport = api.transportKind() === 'tauri' ? 'Desktop app window' : 'Browser (control API over HTTP)';

  return (
    <>
      <ScreenHeader title="Settings" subtitle="This gateway, your sign-in apps, key reminders, what may go out alone, and notifications." />
      {gateway.kind === 'checking' && <p class="muted">Asking the gateway…</p>}
      {(gateway.kind === 'unreachable' || gateway.kind === 'error') && <FailureNotice failure={gateway.failure} />}
      {gateway.kind === 'running' && (
        <section class="card" aria-labelledby="gateway-heading">
          <h2 id="gateway-heading" class="card-title">
            Gateway
          </h2>
          <dl class="facts" data-testid="settings-facts">
            <dt>Version</dt>
            <dd>{gateway.status.version}</dd>
            <dt>Address</dt>
            <dd>
              <code>{gateway.status.url}</code>
            </dd>
            <dt>Data folder</dt>
            <dd>
              <code data-testid="settings-data-dir">{gateway.status.data_dir}</code>
            </dd>
            <dt>Keychain</dt>
            <dd>{gateway.status.keychain}</dd>
            <dt>Running since</dt>
            <dd>
              {formatLocalTime(gateway.status.started_at_ms)}{' '}
              <span class="muted">({formatRelative(gateway.status.started_at_ms, now)})</span>
            </dd>
            <dt>Audit rows</dt>
            <dd>{formatCount(gateway.status.audit_rows)}</dd>
            <dt>This window talks to it via</dt>
            <dd>{transport}</dd>
          </dl>
        </section>
      )}
      <Notifications />
      <Policies />
      <Rotation />
      <OAuthApps />
      <p class="muted settings-note">The switch that pauses every agent is in the header (and the tray menu).</p>
    </>
  );
}

function Notifications() {
  const [on, setOn] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  useEffect(() => {
    let live = true;
    api.preferences().then(
      (p) => {
        if (live) setOn(p.notifications);
      },
      (reason: unknown) => {
        if (live) setFailure(toFailure(reason));
      },
    );
    return () => {
      live = false;
    };
  }, []);

  const change = async (next: boolean) => {
    setBusy(true);
    setFailure(null);
    try {
      setOn((await api.preferencesSet({ notifications: next })).notifications);
    } catch (reason) {
      setFailure(toFailure(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card panel" aria-labelledby="notifications-heading" data-testid="settings-notifications-card">
      <h2 id="notifications-heading" class="card-title">
        Notifications
      </h2>
      {on === null && !failure && <p class="muted">Reading…</p>}
      {on !== null && (
        <label class="checkbox-field">
          <input
            type="checkbox"
            checked={on}
            disabled={busy}
            data-testid="settings-notifications"
            onChange={(e) => change(e.currentTarget.checked)}
          />{' '}
          Show a desktop notification for each new draft to approve, a key due for a new one, and an agent asking for
          access
        </label>
      )}
      <p class="field-hint">
        The desktop app shows them; the count in the navigation and the tray stays either way.
      </p>
      {failure && <FailureNotice failure={failure} testId="notifications-failure" />}
    </section>
  );
}

function Policies() {
  const [policies, setPolicies] = useState<PolicyInfo[] | null>(null);
  const [agents, setAgents] = useState<string[]>([]);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [reload, setReload] = useState(0);
  const [removing, setRemoving] = useState<string | null>(null);
  const [removeFailure, setRemoveFailure] = useState<ApiFailure | null>(null);

  useEffect(() => {
    let live = true;
    Promise.all([api.policies(), api.agents()]).then(
      ([p, a]) => {
        if (!live) return;
        setPolicies(p);
        setAgents(activeAgents(a));
        setFailure(null);
      },
      (reason: unknown) => {
        if (live) setFailure(toFailure(reason));
      },
    );
    return () => {
      live = false;
    };
  }, [reload]);

  const remove = async (id: string) => {
    setRemoving(id);
    setRemoveFailure(null);
    try {
      await api.policyRemove(id);
      setPolicies((prev) => (prev ? prev.filter((p) => p.policy.id !== id) : prev));
    } catch (reason) {
      setRemoveFailure(toFailure(reason));
    } finally {
      setRemoving(null);
    }
  };

  return (
    <section class="card panel" aria-labelledby="policies-heading" data-testid="settings-policies">
      <h2 id="policies-heading" class="card-title">
        What may go out without asking
      </h2>
      <p class="field-hint">
        Emails, messages and invoices agents draft wait for you on the{' '}
        <a href={routeHref('approvals')}>Approvals</a> screen. A policy lets one agent send one kind of thing alone, only
        when every rule holds and within its limits. Refunds and deletions always wait for you.
      </p>
      {failure && <FailureNotice failure={failure} onRetry={() => setReload((r) => r + 1)} testId="policies-failure" />}
      {policies === null && !failure && <p class="muted">Reading your policies…</p>}
      {policies !== null && policies.length === 0 && (
        <p class="muted" data-testid="policies-none">
          No policies: everything agents draft waits for you.
        </p>
      )}
      {policies !== null && policies.length > 0 && (
        <ul class="policy-list">
          {policies.map(({ policy: p, usage, created_by, created_at_ms }) => (
            <li key={p.id} class="policy-item" data-testid="policy" data-policy={p.id}>
              <div>
                <p class="policy-name">
                  <strong>{p.name}</strong> <code class="muted">{p.id}</code>
                </p>
                <p>{policyHeadline(p)}:</p>
                <ul class="policy-rules">
                  {policyRules(p).map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
                <p class="field-hint">
                  Sent alone: {usage.last_hour} in the last hour, {usage.last_day} today. Added by {created_by},{' '}
                  {formatLocalTime(created_at_ms)}.
                </p>
              </div>
              <button
                type="button"
                class="button button-small button-danger"
                data-testid="policy-remove"
                disabled={removing !== null}
                onClick={() => remove(p.id)}
              >
                {removing === p.id ? 'Removing…' : 'Remove'}
                <span class="visually-hidden"> policy {p.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {removeFailure && <FailureNotice failure={removeFailure} testId="policy-remove-failure" />}
      <AddPolicy agents={agents} onAdded={(info) => setPolicies((prev) => [...(prev ?? []).filter((p) => p.policy.id !== info.policy.id), info])} />
    </section>
  );
}

function AddPolicy({ agents, onAdded }: { agents: string[]; onAdded: (p: PolicyInfo) => void }) {
  const [agent, setAgent] = useState('');
  const [presets, setPresets] = useState<PolicyPreset[] | null>(null);
  const [presetKey, setPresetKey] = useState('');
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<string | null>(null);

  useEffect(() => {
    if (agent === '') {
      setPresets(null);
      return;
    }
    let live = true;
    setPresets(null);
    setPresetKey('');
    api.policyPresets(agent).then(
      (p) => {
        if (live) setPresets(p);
      },
      (reason: unknown) => {
        if (live) setFailure(toFailure(reason));
      },
    );
    return () => {
      live = false;
    };
  }, [agent]);

  const pick = (key: string) => {
    setPresetKey(key);
    const preset = presets?.find((p) => p.key === key);
    if (preset) setText(preset.toml);
    setAdded(null);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = validatePolicyText(text);
    setError(problem);
    setAdded(null);
    if (problem) return;
    setBusy(true);
    setFailure(null);
    try {
      const info = await api.policyAdd('toml', text);
      onAdded(info);
      setAdded(info.policy.name);
      setText('');
      setPresetKey('');
    } catch (reason) {
      setFailure(toFailure(reason));
    } finally {
      setBusy(false);
    }
  };

  if (agents.length === 0) {
    return (
      <p class="muted" data-testid="policy-no-agents">
        Add an agent on the <a href={routeHref('agents')}>Agents</a> screen before giving it a policy.
      </p>
    );
  }
  const chosen = presets?.find((p) => p.key === presetKey);
  return (
    <form class="connect-form policy-form" onSubmit={submit} noValidate data-testid="policy-form">
      <h3 class="subhead">Add a policy</h3>
      <div class="toolbar">
        <div class="field">
          <label for="policy-agent">Agent</label>
          <select id="policy-agent" value={agent} data-testid="policy-agent" onChange={(e) => setAgent(e.currentTarget.value)}>
            <option value="">Choose an agent…</option>
            {agents.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="policy-preset">Start from</label>
          <select
            id="policy-preset"
            value={presetKey}
            data-testid="policy-preset"
            disabled={presets === null}
            onChange={(e) => pick(e.currentTarget.value)}
          >
            <option value="">{agent === '' ? 'Choose an agent first' : presets === null ? 'Loading…' : 'Choose a ready-made policy…'}</option>
            {(presets ?? []).map((p) => (
              <option key={p.key} value={p.key}>
                {p.title}
              </option>
            ))}
          </select>
        </div>
      </div>
      {chosen && <p class="field-hint">{chosen.description}</p>}
      <div class="field">
        <label for="policy-text">The policy (edit the rules and limits, then add it)</label>
        <textarea
          id="policy-text"
          class="code-input"
          rows={14}
          spellcheck={false}
          value={text}
          data-testid="policy-text"
          aria-invalid={error ? true : undefined}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        {error && <p class="field-error">{error}</p>}
      </div>
      {failure && <FailureNotice failure={failure} title="The policy was not added." testId="policy-add-failure" />}
      {added && (
        <p class="notice notice-good" role="status" data-testid="policy-added">
          Added “{added}”. It applies to the agent's next draft.
        </p>
      )}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy} data-testid="policy-add">
          {busy ? 'Adding…' : 'Add policy'}
        </button>
      </div>
    </form>
  );
}

function Rotation() {
  const [connections, setConnections] = useState<ConnectionInfo[] | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  useEffect(() => {
    let live = true;
    api.connections().then(
      (c) => {
        if (live) setConnections(rotatable(c));
      },
      (reason: unknown) => {
        if (live) setFailure(toFailure(reason));
      },
    );
    return () => {
      live = false;
    };
  }, []);

  const replace = (c: ConnectionInfo) => setConnections((prev) => (prev ? prev.map((x) => (x.id === c.id ? c : x)) : prev));

  return (
    <section class="card panel" aria-labelledby="rotation-heading" data-testid="settings-rotation">
      <h2 id="rotation-heading" class="card-title">
        Reminders to make new keys
      </h2>
      <p class="field-hint">
        When a key gets older than its schedule, its connection shows “new key due” and you get a reminder. Sign-ins
        renew themselves and need no schedule.
      </p>
      {failure && <FailureNotice failure={failure} testId="rotation-failure" />}
      {connections !== null && connections.length === 0 && <p class="muted">Nothing connected yet.</p>}
      {connections !== null && connections.length > 0 && (
        <dl class="facts">
          {connections.map((c) => (
            <Fragment key={c.id}>
              <dt>
                {c.label} <span class="muted">({keyAgeWords(c.key_age_days)})</span>
              </dt>
              <dd data-testid="rotation-row" data-connection={c.id}>
                <RotationEditor connection={c} onChanged={replace} />
              </dd>
            </Fragment>
          ))}
        </dl>
      )}
    </section>
  );
}

function OAuthApps() {
  const [providers, setProviders] = useState<ProviderEntry[] | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  useEffect(() => {
    let live = true;
    api.providers().then(
      (c) => {
        if (live) setProviders(oauthProviders(c.providers));
      },
      (reason: unknown) => {
        if (live) setFailure(toFailure(reason));
      },
    );
    return () => {
      live = false;
    };
  }, []);

  return (
    <section class="card panel" aria-labelledby="oauth-apps-heading" data-testid="settings-oauth-apps">
      <h2 id="oauth-apps-heading" class="card-title">
        Your own sign-in apps
      </h2>
      <p class="field-hint">
        To sign in to some tools, Switchboard needs an app you register at that tool. Its details stay in this
        computer's keychain; a client secret is never shown again once saved.
      </p>
      {failure && <FailureNotice failure={failure} testId="oauth-apps-failure" />}
      {providers !== null &&
        providers.map((p) => (
          <div key={p.id} data-testid="oauth-app-row" data-provider={p.id}>
            <OwnOAuthApp provider={p} />
          </div>
        ))}
    </section>
  );
}
