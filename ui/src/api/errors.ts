import type { ApiError } from './generated/ApiError';
import type { ErrorCode } from './generated/ErrorCode';

/**
 * Codes a caller can see. The gateway's own ErrorCode, plus one the client
 * adds when no answer came back at all (gateway stopped, wrong port, ...).
 */
export type FailureCode = ErrorCode | 'unreachable';

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'bad_request',
  'payload_too_large',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'paused',
  'audit_unavailable',
  'storage_full',
  'storage_read_only',
  'storage_corrupt',
  'keychain_unavailable',
  'not_granted',
  'scope_not_granted',
  'reconnect_needed',
  'rate_limited',
  'provider_error',
  'provider_unreachable',
  'approver_name_required',
  'internal',
]);

/** The one error type every api call rejects with. Branch on `code`, never on `message`. */
export class ApiFailure extends Error {
  readonly code: FailureCode;
  /** HTTP status when the browser transport got an answer; null otherwise. */
  readonly status: number | null;

  constructor(code: FailureCode, message: string, status: number | null = null) {
    super(message);
    this.name = 'ApiFailure';
    this.code = code;
    this.status = status;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODES.has(value);
}

/** A well-formed `{code, message}` ApiError, or null. */
export function asApiError(value: unknown): ApiError | null {
  if (typeof value !== 'object' || value === null) return null;
  const { code, message } = value as Record<string, unknown>;
  if (!isErrorCode(code) || typeof message !== 'string') return null;
  return { code, message };
}

function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Maps a non-2xx HTTP answer to an ApiFailure. The gateway answers with a JSON
 * ApiError; anything else (a proxy's HTML page, an empty body, an unknown code)
 * becomes `internal` with a message saying what actually came back.
 * 401 is always `unauthorized`: the contract says it means the session expired.
 */
export function failureFromHttp(status: number, statusText: string, body: string): ApiFailure {
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(body);
  } catch {
    // not JSON: handled below
  }
  const apiError = asApiError(parsed);
  if (status === 401) {
    return new ApiFailure('unauthorized', apiError?.message ?? 'Session expired', status);
  }
  if (apiError) return new ApiFailure(apiError.code, apiError.message, status);

  const httpLabel = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  let what: string;
  if (parsed === undefined) {
    what = body.trim() === '' ? 'an empty body' : `a non-JSON body: "${excerpt(body)}"`;
  } else {
    what = `JSON that is not an error object: ${excerpt(body)}`;
  }
  return new ApiFailure('internal', `Gateway answered ${httpLabel} with ${what}`, status);
}

/** Normalizes whatever a rejected Tauri `invoke` carries into an ApiFailure. */
export function failureFromInvoke(command: string, reason: unknown): ApiFailure {
  if (reason instanceof ApiFailure) return reason;
  const apiError = asApiError(reason);
  if (apiError) return new ApiFailure(apiError.code, apiError.message);
  if (typeof reason === 'string' && reason !== '') {
    return new ApiFailure('internal', `Command ${command} failed: ${excerpt(reason)}`);
  }
  if (reason instanceof Error) {
    return new ApiFailure('internal', `Command ${command} failed: ${reason.message}`);
  }
  return new ApiFailure('internal', `Command ${command} failed without an error message`);
}

/** Wraps a fetch() rejection (no HTTP answer at all). */
export function failureFromNetwork(path: string, reason: unknown): ApiFailure {
  const detail = reason instanceof Error ? reason.message : String(reason);
  return new ApiFailure('unreachable', `Gateway not reachable (${path}): ${detail}`);
}

/** Any thrown value as an ApiFailure, for UI code that catches broadly. */
export function toFailure(reason: unknown): ApiFailure {
  if (reason instanceof ApiFailure) return reason;
  const message = reason instanceof Error ? reason.message : String(reason);
  return new ApiFailure('internal', message);
}
