import type { ProviderEntry, ProviderScope } from '../../api';
import { WithCode } from '../../components/FailureNotice';
import { tierWords } from './connection-logic';

type Props = {
  provider: ProviderEntry;
  /** Unique per form, so ids stay unique when several checklists are open. */
  idPrefix: string;
  legend: string;
  ticked: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
  error?: string | undefined;
  disabled?: boolean;
};

type ScopeWordsProps = {
  /** The catalog's scope, or the checklist's item (which carries no note or extra tiers). */
  scope: Pick<ProviderScope, 'scope' | 'description' | 'tier'> & Partial<Pick<ProviderScope, 'also_unlocks' | 'note'>>;
  recommended?: boolean;
};

/**
 * One permission as a person reads it: what it lets an agent do, its tier badge (and any tier
 * it also unlocks), with the provider's exact scope string below. Shared by the connect form's
 * checklist and the Scopes screen.
 */
export function ScopeWords({ scope: s, recommended = false }: ScopeWordsProps) {
  return (
    <>
      <span class="scope-desc">
        {s.description}{' '}
        <span class={`pill tier-${s.tier}`}>{tierWords(s.tier)}</span>
        {(s.also_unlocks ?? []).map((t) => (
          <span key={t} class={`pill tier-${t}`} title={`This permission also allows ${t}`}>
            also {tierWords(t)}
          </span>
        ))}
        {recommended && <span class="pill">recommended</span>}
      </span>
      <code class="scope-code">{s.scope}</code>
      {s.note && (
        <span class="field-hint">
          <WithCode text={s.note} />
        </span>
      )}
    </>
  );
}

/** Each scope in plain words with its tier badge; the provider's exact scope string below. */
export function ScopeChecklist({ provider, idPrefix, legend, ticked, onChange, error, disabled = false }: Props) {
  const recommended = new Set(provider.read_only_scopes);
  const toggle = (scope: string, on: boolean) => {
    const next = new Set(ticked);
    if (on) next.add(scope);
    else next.delete(scope);
    onChange(next);
  };
  const errorId = `${idPrefix}-scopes-error`;
  if (provider.scopes.length === 0) {
    return (
      <p class="muted scope-none">
        <WithCode text={provider.scopes_note ?? `${provider.name} has no permissions to choose: access is set at ${provider.name}.`} />
      </p>
    );
  }
  return (
    <fieldset class="scope-list" aria-describedby={error ? errorId : undefined} data-testid="scope-checklist">
      <legend>{legend}</legend>
      {provider.scopes_note && (
        <p class="field-hint">
          <WithCode text={provider.scopes_note} />
        </p>
      )}
      <ul>
        {provider.scopes.map((s) => {
          const id = `${idPrefix}-scope-${s.scope.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
          return (
            <li key={s.scope}>
              <input
                type="checkbox"
                id={id}
                checked={ticked.has(s.scope)}
                disabled={disabled}
                data-scope={s.scope}
                onChange={(e) => toggle(s.scope, e.currentTarget.checked)}
              />
              <label for={id}>
                <ScopeWords scope={s} recommended={recommended.has(s.scope)} />
              </label>
            </li>
          );
        })}
      </ul>
      {error && (
        <p class="field-error" id={errorId}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
