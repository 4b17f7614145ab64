import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, toFailure } from '../../api';
import { useLive } from '../../lib/useLive';

/**
 * Pausing from the CLI or the tray arrives as a live event; the switch also re-reads the state
 * this often and on focus, in case an event was missed.
 */
const PAUSE_POLL_MS = 30_000;

/**
 * The one switch that stops every agent at once, always in the header. While paused, agents'
 * calls are refused with `paused` and approved drafts are held; it survives a restart.
 */
export function PauseSwitch({ enabled, testId = 'pause-switch' }: { enabled: boolean; testId?: string }) {
  const [paused, setPaused] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(() => {
    api.pauseState().then(
      (s) => setPaused(s.paused),
      // The header already reports an unreachable gateway; keep the last known state.
      () => {},
    );
  }, []);

  useLive(
    ['pause'],
    (m) => {
      if (m.kind === 'pause') setPaused(m.paused);
      else refresh();
    },
    enabled,
  );

  useEffect(() => {
    if (!enabled) return;
    refresh();
    const timer = window.setInterval(refresh, PAUSE_POLL_MS);
    window.addEventListener('focus', refresh);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener('focus', refresh);
    };
  }, [enabled, refresh]);

  if (paused === null) return null;
  const toggle = () => {
    setBusy(true);
    setError(null);
    api
      .pauseSet(!paused)
      .then(
        (s) => setPaused(s.paused),
        (reason: unknown) => {
          const f = toFailure(reason);
          setError(`${f.message} (${f.code})`);
        },
      )
      .finally(() => setBusy(false));
  };
  return (
    <span class="pause-switch">
      <button
        type="button"
        class={paused ? 'pause-button paused' : 'pause-button'}
        aria-pressed={paused}
        disabled={busy}
        onClick={toggle}
        data-testid={testId}
        title={paused ? 'Every agent is paused: their calls are refused and approved drafts are held' : 'Stop every agent at once'}
      >
        {paused ? 'Agents paused — resume' : 'Pause all agents'}
      </button>
      {error && (
        <span class="pause-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
