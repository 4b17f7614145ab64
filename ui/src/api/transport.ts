import { ApiFailure, failureFromHttp, failureFromInvoke, failureFromNetwork } from './errors';

/**
 * One backend call, described for both transports: the Tauri command (with
 * its arguments) and the control-API HTTP request that does the same thing.
 */
export type Call = {
  command: string;
  args?: Record<string, unknown>;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute path plus query string, e.g. `/api/control/v1/audit?limit=50`. */
  path: string;
  /** JSON request body for HTTP (the Tauri command gets the same fields in `args`). */
  body?: unknown;
  /** Overrides the HTTP transport's timeout, for long-polls that wait on purpose. */
  timeoutMs?: number;
};

export type TransportKind = 'tauri' | 'http';

export interface Transport {
  readonly kind: TransportKind;
  /** Resolves with the decoded answer or rejects with an ApiFailure. */
  request<T>(call: Call): Promise<T>;
}

/** Inside the Tauri window the IPC bridge is present; anywhere else we are a browser tab. */
export function detectTransportKind(win: object | undefined): TransportKind {
  return win !== undefined && win !== null && '__TAURI_INTERNALS__' in win ? 'tauri' : 'http';
}

export type InvokeFn = <T>(command: string, args?: Record<string, unknown>) => Promise<T>;

export function createTauriTransport(invoke: InvokeFn): Transport {
  return {
    kind: 'tauri',
    async request<T>(call: Call): Promise<T> {
      try {
        return await invoke<T>(call.command, call.args);
      } catch (reason) {
        throw failureFromInvoke(call.command, reason);
      }
    },
  };
}

export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export type HttpOptions = {
  fetch?: FetchFn;
  /** No answer within this time counts as "not reachable". */
  timeoutMs?: number;
};

export function createHttpTransport(options: HttpOptions = {}): Transport {
  const fetchFn: FetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    kind: 'http',
    async request<T>(call: Call): Promise<T> {
      const controller = new AbortController();
      const limitMs = call.timeoutMs ?? timeoutMs;
      const timer = setTimeout(() => controller.abort(new Error(`no answer after ${limitMs} ms`)), limitMs);
      let response: Response;
      let body: string;
      try {
        const init: RequestInit = {
          method: call.method,
          credentials: 'same-origin',
          headers:
            call.body === undefined
              ? { accept: 'application/json' }
              : { accept: 'application/json', 'content-type': 'application/json' },
          signal: controller.signal,
        };
        if (call.body !== undefined) init.body = JSON.stringify(call.body);
        response = await fetchFn(call.path, init);
        body = await response.text();
      } catch (reason) {
        throw failureFromNetwork(call.path, reason);
      } finally {
        clearTimeout(timer);
      }
      if (!response.ok) throw failureFromHttp(response.status, response.statusText, body);
      try {
        return JSON.parse(body) as T;
      } catch {
        throw new ApiFailure(
          'internal',
          `Gateway answered ${call.method} ${call.path} with HTTP ${response.status} but the body is not JSON`,
          response.status,
        );
      }
    },
  };
}
