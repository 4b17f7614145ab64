import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ApiFailure, type ConnectionInfo, type LimiterStatus, type ProviderEntry } from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { formatLocalTime, formatRelative } from '../../lib/format';
import {
  disconnectWords,
  isOAuthMode,
  keyAgeWords,
  lastErrorWords,
  limitFacts,
  orderedScopes,
  parseRotationDays,
  rotationWords,
  statusView,
} from './connection-logic';
import { routeHrefWith } from '../../routes';
import { ScopeChecklist } from './ScopeChecklist';

type Props = {
  connection: ConnectionInfo;
  provider: ProviderEntry | undefined;
  limits: LimiterStatus | undefined;
  now: number;
  onChanged: (connection: ConnectionInfo) => void;
};

type TestState = { kind: 'idle' } | { kind: 'running' } | { kind: 'done'; ok: boolean } | { kind: 'failed'; failure: ApiFailure };

const when = (ms: number | null, now: number) =>
  ms === null ? <span class="muted">never</span> : <time dateTime={new Date(ms).toISOString()} title={formatLocalTime(ms)}>{formatRelative(ms, now)}</time>;

export function ConnectionRow({ connection: c, provider, limits, now, onChanged }: Props) {
  const view = statusView(c);
  const providerName = provider?.name ?? c.provider;
  const removed = c.status === 'removed';
  const oauth = isOAuthMode(c.auth_mode);
  const [test, setTest] = useState<TestState>({ kind: 'idle' });
  const [confirming, setConfirming] = useState(false);
  const [editingScopes, setEditingScopes] = useState(false);
  const scopeNames = new Map(provider?.scopes.map((s) => [s.scope, s]) ?? []);
  const headingId = `conn-${c.id}-title`;

  const runTest = async () => {
    setTest({ kind: 'running' });
    try {
      const result = await api.connectionTest(c.id);
      setTest({ kind: 'done', ok: result.ok });
      onChanged(result.connection);
    } catch (reason) {
      setTest({ kind: 'failed', failure: toFailure(reason) });
    }
  };

  return (
    <li
      class={`connection ${removed ? 'connection-removed' : ''}`}
      data-testid="connection"
      data-connection={c.id}
      data-status={c.status}
      aria-labelledby={headingId}
    >
      <div class="connection-head">
        <div>
          <h4 id={headingId} class="connection-label">
            {c.label}
          </h4>
          <span class="muted connection-id">{c.id}</span>
        </div>
        <span class={`pill tone-${view.tone}`} data-testid="connection-status">
          {view.words}
        </span>
      </div>
      {view.detail && <p class={`connection-detail tone-text-${view.tone}`}>{view.detail}</p>}

      <dl class="facts facts-compact connection-facts">
        <dt>Connected by</dt>
        <dd>{oauth ? 'Signing in (OAuth)' : 'Pasted key'}</dd>
        <dt>Permissions</dt>
        <dd data-testid="connection-scopes">
          {c.granted_scopes.length === 0 ? (
            <span class="muted">none listed</span>
          ) : (
            <ul class="scope-chips">
              {c.granted_scopes.map((s) => {
                const info = scopeNames.get(s);
                return (
                  <li key={s} title={s}>
                    {info ? info.description : <code>{s}</code>}{' '}
                    {info && <span class={`pill tier-${info.tier}`}>{info.tier}</span>}
                  </li>
                );
              })}
            </ul>
          )}
          {!removed && (
            <a href={routeHrefWith('scopes', 'connection', c.id)} data-testid="connection-review-scopes">
              See which permissions agents used
            </a>
          )}
        </dd>
        {oauth ? (
          <>
            <dt>Access token</dt>
            <dd>
              {c.token_expires_at_ms === null ? (
                <span class="muted">no expiry given</span>
              ) : (
                <>expires {when(c.token_expires_at_ms, now)}, renewed automatically before then</>
              )}
            </dd>
          </>
        ) : (
          <>
            <dt>Key</dt>
            <dd>
              {keyAgeWords(c.key_age_days)} (stored {formatLocalTime(c.key_set_at_ms)})
            </dd>
          </>
        )}
        <dt>Rotation</dt>
        <dd>
          {removed ? rotationWords(c.rotate_every_days) : <RotationEditor connection={c} onChanged={onChanged} />}
        </dd>
        <dt>Last success</dt>
        <dd>{when(c.last_success_ms, now)}</dd>
        <dt>Last error</dt>
        <dd data-testid="connection-last-error">
          {c.last_error === null ? (
            <span class="muted">none</span>
          ) : (
            <>
              {lastErrorWords(c.last_error.code)} {when(c.last_error.at_ms, now)}
              <details class="error-more">
                <summary>Details</summary>
                <p>
                  Code <code>{c.last_error.code}</code>: {c.last_error.message}
                </p>
              </details>
            </>
          )}
        </dd>
        {!removed && (
          <>
            <dt>Rate limit</dt>
            <dd data-testid="connection-limits">{limits ? <Limits status={limits} /> : <span class="muted">no figures yet</span>}</dd>
          </>
        )}
        {removed && c.removed_at_ms !== null && (
          <>
            <dt>Removed</dt>
            <dd>{formatLocalTime(c.removed_at_ms)}</dd>
          </>
        )}
      </dl>

      {editingScopes && provider && (
        <ScopeEditor connection={c} provider={provider} onDone={() => setEditingScopes(false)} onChanged={onChanged} />
      )}

      {!removed && (
        <div class="connection-actions">
          <button type="button" class="button" onClick={runTest} disabled={test.kind === 'running'} data-testid="connection-test">
            {test.kind === 'running' ? 'Testing…' : 'Test'}
          </button>
          {!oauth && provider && provider.scopes.length > 0 && !editingScopes && (
            <button type="button" class="button" onClick={() => setEditingScopes(true)}>
              Change permissions
            </button>
          )}
          <button type="button" class="button button-danger" onClick={() => setConfirming(true)} data-testid="connection-disconnect">
            Disconnect
          </button>
          <span role="status" class="test-result" data-testid="connection-test-result" data-ok={test.kind === 'done' ? String(test.ok) : undefined}>
            {test.kind === 'done' &&
              (test.ok ? (
                <span class="tone-text-good">Works: {providerName} accepted the {oauth ? 'sign-in' : 'key'}.</span>
              ) : (
                <span class="tone-text-bad">Did not work: {c.last_error ? lastErrorWords(c.last_error.code) : 'the check failed.'}</span>
              ))}
          </span>
        </div>
      )}
      {test.kind === 'failed' && <FailureNotice failure={test.failure} testId="connection-test-failure" />}

      {confirming && (
        <DisconnectDialog
          connection={c}
          providerName={providerName}
          onCancel={() => setConfirming(false)}
          onDone={(updated) => {
            setConfirming(false);
            onChanged(updated);
          }}
        />
      )}
    </li>
  );
}

function Limits({ status }: { status: LimiterStatus }) {
  const f = limitFacts(status);
  return (
    <span class="limits">
      <span data-testid="limits-budget">{f.budget}</span>
      <span>{f.queued}</span>
      <span>{f.throttled}</span>
      {f.paused && <span class="tone-text-warn">{f.paused}</span>}
    </span>
  );
}

export function RotationEditor({ connection: c, onChanged }: { connection: ConnectionInfo; onChanged: (c: ConnectionInfo) => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(c.rotate_every_days === null ? '' : String(c.rotate_every_days));
  const [error, setError] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `rotation-${c.id}`;

  if (!editing) {
    return (
      <span class="inline-edit">
        {rotationWords(c.rotate_every_days)}{' '}
        <button type="button" class="button button-small" onClick={() => setEditing(true)} aria-label={`Change the rotation schedule of ${c.label}`}>
          Change
        </button>
      </span>
    );
  }
  const save = async (e: Event) => {
    e.preventDefault();
    const parsed = parseRotationDays(text);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(null);
    setBusy(true);
    setFailure(null);
    try {
      onChanged(await api.connectionSetRotation(c.id, parsed.days));
      setEditing(false);
    } catch (reason) {
      setFailure(toFailure(reason));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={save} noValidate>
      <label for={id}>Remind me to make a new key every</label>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        size={5}
        value={text}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-hint`}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <span>days</span>
      <button type="submit" class="button button-small button-primary" disabled={busy}>
        Save
      </button>
      <button type="button" class="button button-small button-quiet" onClick={() => setEditing(false)} disabled={busy}>
        Cancel
      </button>
      <p class="field-hint" id={`${id}-hint`}>
        Leave it empty for no schedule.
      </p>
      {error && <p class="field-error">{error}</p>}
      {failure && <FailureNotice failure={failure} />}
    </form>
  );
}

function ScopeEditor({
  connection: c,
  provider,
  onDone,
  onChanged,
}: {
  connection: ConnectionInfo;
  provider: ProviderEntry;
  onDone: () => void;
  onChanged: (c: ConnectionInfo) => void;
}) {
  const [ticked, setTicked] = useState<Set<string>>(() => new Set(c.granted_scopes));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      onChanged(await api.connectionSetScopes(c.id, orderedScopes(provider, ticked)));
      onDone();
    } catch (reason) {
      setFailure(toFailure(reason));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="connect-form scope-editor" onSubmit={save}>
      <ScopeChecklist
        provider={provider}
        idPrefix={`edit-${c.id}`}
        legend="Permissions this key was given"
        ticked={ticked}
        onChange={setTicked}
        disabled={busy}
      />
      <p class="field-hint">Tick only what the key really has at {provider.name}: calls needing anything else are refused.</p>
      {failure && <FailureNotice failure={failure} />}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          Save permissions
        </button>
        <button type="button" class="button button-quiet" onClick={onDone} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DisconnectDialog({
  connection: c,
  providerName,
  onCancel,
  onDone,
}: {
  connection: ConnectionInfo;
  providerName: string;
  onCancel: () => void;
  onDone: (c: ConnectionInfo) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const titleId = `disconnect-${c.id}-title`;
  const bodyId = `disconnect-${c.id}-body`;

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const confirm = async () => {
    setBusy(true);
    setFailure(null);
    try {
      onDone(await api.connectionRemove(c.id));
    } catch (reason) {
      setFailure(toFailure(reason));
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      data-testid="disconnect-dialog"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <h2 id={titleId}>Disconnect “{c.label}”?</h2>
      <p id={bodyId}>{disconnectWords(c, providerName)}</p>
      {failure && <FailureNotice failure={failure} testId="disconnect-failure" />}
      <div class="form-actions">
        <button type="button" class="button button-danger" onClick={confirm} disabled={busy} data-testid="disconnect-confirm">
          {busy ? 'Disconnecting…' : 'Disconnect'}
        </button>
        <button type="button" class="button" onClick={onCancel} disabled={busy} autoFocus>
          Keep connected
        </button>
      </div>
    </dialog>
  );
}
