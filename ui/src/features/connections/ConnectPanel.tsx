import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ApiFailure, type ConnectionInfo, type OAuthStart, type ProviderEntry } from '../../api';
import { FailureNotice, WithCode } from '../../components/FailureNotice';
import {
  authModeWords,
  connectOptions,
  defaultScopes,
  flowView,
  keyNoun,
  orderedScopes,
  validateKeyForm,
  validateOAuthForm,
  type ConnectMethod,
  type FlowView,
  type FormErrors,
} from './connection-logic';
import { ScopeChecklist } from './ScopeChecklist';

type Props = {
  provider: ProviderEntry;
  onConnected: (connection: ConnectionInfo) => void;
  onClose: () => void;
};

/** How long one status request waits for the sign-in to finish (the gateway allows 30 s). */
const POLL_WAIT_SECS = 25;

type SignIn =
  | { kind: 'idle' }
  | { kind: 'starting' }
  | { kind: 'waiting'; start: OAuthStart }
  | { kind: 'finished'; view: FlowView }
  | { kind: 'stopped' };

export function ConnectPanel({ provider, onConnected, onClose }: Props) {
  const options = connectOptions(provider);
  const [method, setMethod] = useState<ConnectMethod | null>(options.preferred);
  const [label, setLabel] = useState('');
  const [key, setKey] = useState('');
  const [scopes, setScopes] = useState<Set<string>>(() => new Set(defaultScopes(provider)));
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  /** The gateway refused sign-in for this provider (it names the key alternative). */
  const [oauthRefused, setOauthRefused] = useState<ApiFailure | null>(null);
  const [signIn, setSignIn] = useState<SignIn>({ kind: 'idle' });
  const alive = useRef(true);
  const flowSeq = useRef(0);
  const idp = `connect-${provider.id}`;

  useEffect(
    () => () => {
      alive.current = false;
      flowSeq.current += 1;
    },
    [],
  );

  const chooseMethod = (m: ConnectMethod) => {
    setMethod(m);
    setErrors({});
    setFailure(null);
  };

  const submitKey = async (e: Event) => {
    e.preventDefault();
    if (options.keyMode === null || busy) return;
    const picked = orderedScopes(provider, scopes);
    const found = validateKeyForm({ label, key, scopes: picked }, provider, options.keyMode);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    setFailure(null);
    try {
      const connection = await api.connectionAddKey({
        provider: provider.id,
        label: label.trim() === '' ? null : label.trim(),
        api_key: key.trim(),
        scopes: provider.scopes.length > 0 ? picked : null,
      });
      if (!alive.current) return;
      setKey('');
      onConnected(connection);
    } catch (reason) {
      if (alive.current) setFailure(toFailure(reason));
    } finally {
      if (alive.current) setBusy(false);
    }
  };

  const follow = async (start: OAuthStart, mine: number) => {
    for (;;) {
      let status;
      try {
        status = await api.oauthStatus(start.flow_id, POLL_WAIT_SECS);
      } catch (reason) {
        if (mine !== flowSeq.current) return;
        setSignIn({ kind: 'idle' });
        setFailure(toFailure(reason));
        return;
      }
      if (mine !== flowSeq.current) return;
      const view = flowView(status);
      if (!view.done) continue;
      setSignIn({ kind: 'finished', view });
      if (status.status === 'connected') onConnected(status.connection);
      return;
    }
  };

  const submitOAuth = async (e: Event) => {
    e.preventDefault();
    if (signIn.kind === 'starting' || signIn.kind === 'waiting') return;
    const picked = orderedScopes(provider, scopes);
    const found = validateOAuthForm(label, picked, provider);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setFailure(null);
    setSignIn({ kind: 'starting' });
    const mine = ++flowSeq.current;
    try {
      const start = await api.oauthStart({
        provider: provider.id,
        label: label.trim() === '' ? null : label.trim(),
        scopes: provider.scopes.length > 0 ? picked : null,
        open_browser: true,
      });
      if (mine !== flowSeq.current) return;
      setSignIn({ kind: 'waiting', start });
      void follow(start, mine);
    } catch (reason) {
      if (mine !== flowSeq.current) return;
      const f = toFailure(reason);
      setSignIn({ kind: 'idle' });
      // bad_request here means sign-in cannot be used for this provider; its message says why
      // and names the key alternative, which we then offer.
      if (f.code === 'bad_request' && options.keyMode !== null) {
        setOauthRefused(f);
        setMethod('key');
      } else setFailure(f);
    }
  };

  const cancelSignIn = () => {
    flowSeq.current += 1;
    setSignIn({ kind: 'stopped' });
  };

  if (method === null) {
    return (
      <div class="connect-panel" data-testid="connect-panel">
        <p>
          Switchboard cannot connect {provider.name} yet: it offers {provider.auth_modes.map(authModeWords).join(', ')}, and
          none of these works from this app today.
        </p>
        <div class="form-actions">
          <button type="button" class="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    );
  }

  const waiting = signIn.kind === 'starting' || signIn.kind === 'waiting';
  const offerBoth = options.oauth && options.keyMode !== null;

  return (
    <div class="connect-panel" data-testid="connect-panel">
      {offerBoth && (
        <fieldset class="method-choice">
          <legend>How do you want to connect {provider.name}?</legend>
          <label>
            <input
              type="radio"
              name={`${idp}-method`}
              value="oauth"
              checked={method === 'oauth'}
              disabled={waiting || busy}
              onChange={() => chooseMethod('oauth')}
            />{' '}
            Sign in with your {provider.name} account
          </label>
          <label>
            <input
              type="radio"
              name={`${idp}-method`}
              value="key"
              checked={method === 'key'}
              disabled={waiting || busy}
              data-testid="method-key"
              onChange={() => chooseMethod('key')}
            />{' '}
            Paste a {keyNoun(options.keyMode!)}
          </label>
        </fieldset>
      )}

      {oauthRefused && method === 'key' && (
        <div class="notice notice-warn" role="status" data-testid="oauth-refused" data-code={oauthRefused.code}>
          <div>
            <p class="notice-title">Signing in does not work for {provider.name} here</p>
            <p class="notice-detail">{oauthRefused.message}</p>
          </div>
        </div>
      )}

      {method === 'key' && options.keyMode !== null && (
        <form class="connect-form" onSubmit={submitKey} noValidate data-testid="key-form">
          {provider.credential_hint && (
            <p class="field-hint">
              <WithCode text={provider.credential_hint} />
            </p>
          )}
          <div class="field">
            <label for={`${idp}-label`}>Name (optional)</label>
            <input
              id={`${idp}-label`}
              type="text"
              value={label}
              placeholder={provider.name}
              maxLength={100}
              autocomplete="off"
              aria-invalid={errors.label ? true : undefined}
              aria-describedby={errors.label ? `${idp}-label-error` : undefined}
              onInput={(e) => setLabel(e.currentTarget.value)}
              data-testid="connect-label"
            />
            {errors.label && (
              <p class="field-error" id={`${idp}-label-error`}>
                {errors.label}
              </p>
            )}
          </div>
          <div class="field">
            <label for={`${idp}-key`}>{authModeWords(options.keyMode)}</label>
            <input
              id={`${idp}-key`}
              type="password"
              value={key}
              autocomplete="off"
              spellcheck={false}
              aria-invalid={errors.key ? true : undefined}
              aria-describedby={`${idp}-key-hint${errors.key ? ` ${idp}-key-error` : ''}`}
              onInput={(e) => setKey(e.currentTarget.value)}
              data-testid="connect-key"
            />
            <p class="field-hint" id={`${idp}-key-hint`}>
              Checked with {provider.name} first, then kept only in this computer's keychain. It is never shown again.
            </p>
            {errors.key && (
              <p class="field-error" id={`${idp}-key-error`}>
                {errors.key}
              </p>
            )}
          </div>
          <ScopeChecklist
            provider={provider}
            idPrefix={`${idp}-key`}
            legend={`Permissions this ${keyNoun(options.keyMode)} was given`}
            ticked={scopes}
            onChange={setScopes}
            error={errors.scopes}
            disabled={busy}
          />
          {failure && <ConnectFailure failure={failure} />}
          <div class="form-actions">
            <button type="submit" class="button button-primary" disabled={busy} data-testid="connect-submit">
              {busy ? `Checking with ${provider.name}…` : 'Connect'}
            </button>
            <button type="button" class="button button-quiet" onClick={onClose} disabled={busy}>
              Cancel
            </button>
          </div>
        </form>
      )}

      {method === 'oauth' && (
        <form class="connect-form" onSubmit={submitOAuth} noValidate data-testid="oauth-form">
          <div class="field">
            <label for={`${idp}-olabel`}>Name (optional)</label>
            <input
              id={`${idp}-olabel`}
              type="text"
              value={label}
              placeholder={provider.name}
              maxLength={100}
              autocomplete="off"
              disabled={waiting}
              aria-invalid={errors.label ? true : undefined}
              onInput={(e) => setLabel(e.currentTarget.value)}
            />
            {errors.label && <p class="field-error">{errors.label}</p>}
          </div>
          <ScopeChecklist
            provider={provider}
            idPrefix={`${idp}-oauth`}
            legend={`What to ask ${provider.name} for`}
            ticked={scopes}
            onChange={setScopes}
            error={errors.scopes}
            disabled={waiting}
          />
          {failure && <ConnectFailure failure={failure} />}
          <SignInState state={signIn} providerName={provider.name} />
          <div class="form-actions">
            {waiting ? (
              <button type="button" class="button" onClick={cancelSignIn} data-testid="oauth-cancel">
                Cancel
              </button>
            ) : (
              <>
                <button type="submit" class="button button-primary" data-testid="oauth-submit">
                  {signIn.kind === 'finished' || signIn.kind === 'stopped' ? 'Start again' : `Sign in to ${provider.name}`}
                </button>
                <button type="button" class="button button-quiet" onClick={onClose}>
                  Close
                </button>
              </>
            )}
          </div>
        </form>
      )}
      {method === 'oauth' && !provider.id.endsWith('-sandbox') && <OwnOAuthApp provider={provider} />}
    </div>
  );
}

/** A refused connect: for a request the gateway turned down, say nothing was connected. */
function ConnectFailure({ failure }: { failure: ApiFailure }) {
  const refused = failure.code === 'bad_request';
  return (
    <FailureNotice
      failure={failure}
      testId="connect-failure"
      {...(refused ? { title: 'Not connected', hint: 'Nothing was saved. The reason is below.' } : {})}
    />
  );
}

/**
 * Signing in to most tools needs an app registered at the tool by the person connecting (its
 * client id, and for some its secret), kept in the keychain.
 */
export function OwnOAuthApp({ provider }: { provider: ProviderEntry }) {
  const [stored, setStored] = useState<{ has_client_secret: boolean } | null | undefined>(undefined);
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [error, setError] = useState<string | null>(null);
  const needsSecret = provider.oauth?.token_auth !== 'none';
  const idp = `oauth-app-${provider.id}`;

  useEffect(() => {
    let live = true;
    api.oauthClients().then(
      (all) => {
        if (live) setStored(all.find((c) => c.provider === provider.id) ?? null);
      },
      (reason: unknown) => {
        if (live) setFailure(toFailure(reason));
      },
    );
    return () => {
      live = false;
    };
  }, [provider.id]);

  const save = async () => {
    if (clientId.trim() === '') {
      setError('Paste the client id of your app.');
      return;
    }
    setError(null);
    setBusy(true);
    setFailure(null);
    try {
      const info = await api.oauthClientSet(provider.id, clientId.trim(), secret.trim() === '' ? null : secret.trim());
      setStored(info);
      setClientId('');
      setSecret('');
    } catch (reason) {
      setFailure(toFailure(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="own-app" data-testid="own-oauth-app">
      <summary>
        Your own {provider.name} app:{' '}
        {stored === undefined ? 'checking…' : stored === null ? 'none stored' : `stored${stored.has_client_secret ? ' with its secret' : ''}`}
      </summary>
      <p class="field-hint">
        Register an app at {provider.name} with the redirect address <code>http://127.0.0.1</code> (any port), then paste
        its details here. They are kept in this computer's keychain.
      </p>
      <div class="field">
        <label for={`${idp}-id`}>Client id</label>
        <input id={`${idp}-id`} type="text" autocomplete="off" spellcheck={false} value={clientId} onInput={(e) => setClientId(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={`${idp}-secret`}>Client secret{needsSecret ? '' : ' (not needed)'}</label>
        <input id={`${idp}-secret`} type="password" autocomplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
      </div>
      {error && <p class="field-error">{error}</p>}
      {failure && <FailureNotice failure={failure} />}
      <div class="form-actions">
        <button type="button" class="button" onClick={save} disabled={busy}>
          {busy ? 'Saving…' : 'Save app'}
        </button>
      </div>
    </details>
  );
}

function SignInState({ state, providerName }: { state: SignIn; providerName: string }) {
  switch (state.kind) {
    case 'idle':
      return null;
    case 'starting':
      return (
        <p class="signin-state" role="status">
          Opening {providerName}'s sign-in page…
        </p>
      );
    case 'waiting':
      return (
        <div class="signin-state" role="status" data-testid="oauth-waiting">
          <p class="notice-title">Finish signing in in your browser…</p>
          {state.start.browser_opened ? (
            <p class="field-hint">
              Your browser opened {providerName}'s sign-in page. Did it not appear?{' '}
              <a href={state.start.authorize_url} target="_blank" rel="noopener noreferrer">
                Open it again
              </a>
              .
            </p>
          ) : (
            <p class="field-hint">
              The browser could not be opened on this computer.{' '}
              <a href={state.start.authorize_url} target="_blank" rel="noopener noreferrer">
                Open {providerName}'s sign-in page
              </a>{' '}
              to continue.
            </p>
          )}
        </div>
      );
    case 'finished':
      return (
        <p class={`signin-state tone-text-${state.view.tone}`} role="status" data-testid="oauth-result">
          {state.view.words}
        </p>
      );
    case 'stopped':
      return (
        <p class="signin-state" role="status">
          Stopped waiting. If you finish signing in anyway, the connection still appears here.
        </p>
      );
  }
}
