// Live change events from the gateway: one connection per page, shared by every screen.
// In the window they arrive as Tauri events (`live`), in a browser over Server-Sent Events
// (`GET /api/control/v1/live`). Either way a listener gets the same LiveEvent shapes, plus
// `{kind: 'ready'}` whenever the stream (re)connects or fell behind — the moment to re-read
// whatever might have been missed.
import { listen } from '@tauri-apps/api/event';
import { CONTROL_API } from './calls';
import type { LiveEvent } from './generated/LiveEvent';
import { detectTransportKind } from './transport';

export type { LiveEvent } from './generated/LiveEvent';
export type LiveKind = LiveEvent['kind'];
/** What a listener receives: a change, or `ready` (connected again: re-read what you show). */
export type LiveMessage = LiveEvent | { kind: 'ready' };

export const LIVE_KINDS: readonly LiveKind[] = ['approval', 'audit', 'rate_limit', 'grants', 'pause'];
export const LIVE_PATH = `${CONTROL_API}/live`;
/** The Tauri event the desktop shell emits for each LiveEvent. */
export const TAURI_LIVE_EVENT = 'live';

/** Parses one SSE message (`event:` name and `data:` text); null for anything unknown or malformed. */
export function parseLiveMessage(name: string, data: string): LiveMessage | null {
  if (name === 'ready' || name === 'lagged') return { kind: 'ready' };
  if (!(LIVE_KINDS as readonly string[]).includes(name)) return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const kind = (value as { kind?: unknown }).kind;
  return kind === name ? (value as LiveEvent) : null;
}

/** A Tauri event payload as a message (the shell sends LiveEvents and `{kind:'lagged'}`). */
export function messageFromPayload(payload: unknown): LiveMessage | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const kind = (payload as { kind?: unknown }).kind;
  if (kind === 'lagged' || kind === 'ready') return { kind: 'ready' };
  return typeof kind === 'string' && (LIVE_KINDS as readonly string[]).includes(kind) ? (payload as LiveEvent) : null;
}

/** Whether a listener for `kinds` wants `message` (`ready` goes to everyone). */
export function wants(kinds: readonly LiveKind[], message: LiveMessage): boolean {
  return message.kind === 'ready' || (kinds as readonly string[]).includes(message.kind);
}

/** Wait before reconnect attempt `attempt` (0-based): 1 s doubling to 30 s at most. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, Math.min(attempt, 10)));
}

type Listener = (message: LiveMessage) => void;
const listeners = new Set<Listener>();
let stopSource: (() => void) | null = null;

function deliver(message: LiveMessage) {
  for (const l of [...listeners]) l(message);
}

function startBrowser(): () => void {
  let source: EventSource | null = null;
  let attempt = 0;
  let timer: number | undefined;
  let stopped = false;
  const open = () => {
    if (stopped) return;
    source = new EventSource(LIVE_PATH, { withCredentials: true });
    const handler = (e: MessageEvent<string>) => {
      const m = parseLiveMessage(e.type, e.data);
      if (m === null) return;
      if (m.kind === 'ready') attempt = 0;
      deliver(m);
    };
    for (const name of ['ready', 'lagged', ...LIVE_KINDS]) source.addEventListener(name, handler as EventListener);
    source.onerror = () => {
      // The browser retries by itself while the stream is CONNECTING; once CLOSED (an HTTP
      // error, e.g. a restarted gateway) we reopen it ourselves, slower each time.
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        timer = window.setTimeout(open, reconnectDelayMs(attempt++));
      }
    };
  };
  open();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    source?.close();
  };
}

function startTauri(): () => void {
  let unlisten: (() => void) | null = null;
  let stopped = false;
  listen<unknown>(TAURI_LIVE_EVENT, (e) => {
    const m = messageFromPayload(e.payload);
    if (m !== null) deliver(m);
  }).then(
    (u) => {
      if (stopped) u();
      else {
        unlisten = u;
        deliver({ kind: 'ready' });
      }
    },
    () => {},
  );
  return () => {
    stopped = true;
    unlisten?.();
  };
}

/** Adds a listener; the shared connection opens with the first and closes with the last. */
export function subscribeLive(listener: Listener): () => void {
  listeners.add(listener);
  if (stopSource === null) {
    const win = typeof window === 'undefined' ? undefined : window;
    stopSource = detectTransportKind(win) === 'tauri' ? startTauri() : startBrowser();
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && stopSource !== null) {
      stopSource();
      stopSource = null;
    }
  };
}
