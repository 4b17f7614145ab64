import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';

/** The navigation badge re-reads the count this often, and whenever the window gets focus. */
export const COUNT_POLL_MS = 4_000;

const listeners = new Set<() => void>();

/** Tells the badge a decision was made here, so it re-reads the count now instead of at the next poll. */
export function approvalsChanged(): void {
  for (const listener of listeners) listener();
}

/**
 * How many drafts wait for a person, kept live: polled every few seconds, on focus, when the
 * tab becomes visible and after a decision in this window. `null` until the first answer.
 */
export function usePendingCount(enabled: boolean): number | null {
  const [count, setCount] = useState<number | null>(null);
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
