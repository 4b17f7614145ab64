import { useEffect, useRef } from 'preact/hooks';
import { subscribeLive, wants, type LiveKind, type LiveMessage } from '../api/live';

/**
 * Calls `onEvent` for each live change of the given kinds (drafts, audit rows, pacing, grants,
 * pause), and with `{kind: 'ready'}` whenever the stream (re)connected — re-read then, as
 * something may have changed while it was down. The transport (Tauri events in the window,
 * Server-Sent Events in a browser, reconnecting) is shared by every screen.
 */
export function useLive(kinds: readonly LiveKind[], onEvent: (message: LiveMessage) => void, enabled = true): void {
  const latest = useRef(onEvent);
  latest.current = onEvent;
  const key = kinds.join(',');
  useEffect(() => {
    if (!enabled) return;
    const wanted = key.split(',') as LiveKind[];
    return subscribeLive((m) => {
      if (wants(wanted, m)) latest.current(m);
    });
  }, [key, enabled]);
}
