// The ONLY module that talks to the backend. Screens import from here.
import { invoke } from '@tauri-apps/api/core';
import { auditListCall, auditVerifyCall, statusCall } from './calls';
import { ApiFailure } from './errors';
import { createHttpTransport, createTauriTransport, detectTransportKind, type Call, type Transport } from './transport';
import type { AuditPage } from './generated/AuditPage';
import type { AuditQuery } from './generated/AuditQuery';
import type { GatewayStatus } from './generated/GatewayStatus';
import type { VerifyReport } from './generated/VerifyReport';

export { ApiFailure, toFailure, type FailureCode } from './errors';
export type { TransportKind } from './transport';
export type { ActorKind } from './generated/ActorKind';
export type { AuditPage } from './generated/AuditPage';
export type { AuditQuery } from './generated/AuditQuery';
export type { AuditRow } from './generated/AuditRow';
export type { GatewayStatus } from './generated/GatewayStatus';
export type { Tier } from './generated/Tier';
export type { VerifyReport } from './generated/VerifyReport';

let transport: Transport | null = null;

function currentTransport(): Transport {
  if (transport === null) {
    const win = typeof window === 'undefined' ? undefined : window;
    transport =
      detectTransportKind(win) === 'tauri' ? createTauriTransport(invoke) : createHttpTransport();
  }
  return transport;
}

type FailureListener = (failure: ApiFailure) => void;
const failureListeners = new Set<FailureListener>();

/**
 * Called for every failed call, before the caller sees the rejection. The shell uses it
 * to switch to "Session expired" on `unauthorized` and to re-check the gateway on `unreachable`.
 */
export function onFailure(listener: FailureListener): () => void {
  failureListeners.add(listener);
  return () => {
    failureListeners.delete(listener);
  };
}

async function run<T>(call: Call): Promise<T> {
  try {
    return await currentTransport().request<T>(call);
  } catch (reason) {
    if (reason instanceof ApiFailure) {
      for (const listener of failureListeners) listener(reason);
    }
    throw reason;
  }
}

export const api = {
  transportKind: () => currentTransport().kind,
  status: (): Promise<GatewayStatus> => run(statusCall()),
  auditList: (query: Partial<AuditQuery>): Promise<AuditPage> => run(auditListCall(query)),
  auditVerify: (): Promise<VerifyReport> => run(auditVerifyCall()),
};
