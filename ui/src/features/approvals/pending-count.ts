import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { useLive } from '../../lib/useLive';

/**
 * Live approval events carry the new count; the badge also re-reads it this often, on focus and
 * on reconnect, in case an event was missed while the stream was down.
 */
export const COUNT_POLL_MS = 30_000;

const listeners = new Set<() => void>();

/** Tells the badge a decision was made here, so it re-reads the count now instead of at the next poll. */
export function approvalsChanged(): void {
  for (const listener of listeners) listener();
}

/**
 * How many drafts wait for a person, kept live: from each live approval event, re-read on
 * reconnect, focus, when the tab becomes visible, after a decision in this window and slowly in
 * between. `null` until the first answer.
 */
export function usePendingCount(enabled: boolean): number | null {
  const [count, setCount] = useState<number | null>(null);
  useLive(
    ['approval'],
    (m) => {
      if (m.kind === 'approval') setCount(m.pending);
      else approvalsChanged();
    },
    enabled,
  );
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let inFlight = false;
    let again = false;
    const refresh = () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      api
        .approvalsCount()
        .then(
          (c) => {
            if (!stopped) setCount(c.pending);
          },
          // The header already reports an unreachable gateway; the badge keeps its last number.
          () => {},
        )
        .finally(() => {
          inFlight = false;
          if (again && !stopped) {
            again = false;
            refresh();
          }
        });
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') refresh();
    };
    refresh();
    const timer = window.setInterval(refresh, COUNT_POLL_MS);
    window.addEventListener('focus', refresh);
    document.addEventListener('visibilitychange', onVisible);
    listeners.add(refresh);
    return () => {
      stopped = true;
      window.clearInterval(timer);
      window.removeEventListener('focus', refresh);
      document.removeEventListener('visibilitychange', onVisible);
      listeners.delete(refresh);
    };
  }, [enabled]);
  return count;
}
