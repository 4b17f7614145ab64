// The ONLY module that talks to the backend. Screens import from here.
import { invoke } from '@tauri-apps/api/core';
import {
  approvalApproveCall,
  approvalConfirmCall,
  approvalGetCall,
  approvalRejectCall,
  approvalsApproveBulkCall,
  approvalsCountCall,
  pauseSetCall,
  pauseStateCall,
  approvalsListCall,
  auditListCall,
  auditVerifyCall,
  connectionAddKeyCall,
  connectionRemoveCall,
  connectionSetRotationCall,
  connectionSetScopesCall,
  connectionsListCall,
  connectionTestCall,
  oauthClientSetCall,
  oauthClientsCall,
  oauthStartCall,
  oauthStatusCall,
  providersCall,
  rateLimitsCall,
  sessionGetCall,
  sessionSetNameCall,
  statusCall,
  type AddKeyInput,
  type ApprovalCount,
  type OAuthStartInput,
} from './calls';
import { ApiFailure } from './errors';
import { createHttpTransport, createTauriTransport, detectTransportKind, type Call, type Transport } from './transport';
import type { ApprovalInfo } from './generated/ApprovalInfo';
import type { ApprovalStatus } from './generated/ApprovalStatus';
import type { AuditPage } from './generated/AuditPage';
import type { AuditQuery } from './generated/AuditQuery';
import type { Catalog } from './generated/Catalog';
import type { ConnectionInfo } from './generated/ConnectionInfo';
import type { ConnectionLimits } from './generated/ConnectionLimits';
import type { ConnectionTest } from './generated/ConnectionTest';
import type { OAuthClientInfo } from './generated/OAuthClientInfo';
import type { OAuthFlowStatus } from './generated/OAuthFlowStatus';
import type { OAuthStart } from './generated/OAuthStart';
import type { GatewayStatus } from './generated/GatewayStatus';
import type { PauseState } from './generated/PauseState';
import type { SessionInfo } from './generated/SessionInfo';
import type { VerifyReport } from './generated/VerifyReport';

export { ApiFailure, toFailure, type FailureCode } from './errors';
export type { TransportKind } from './transport';
export type { ActorKind } from './generated/ActorKind';
export type { AuditPage } from './generated/AuditPage';
export type { AuditQuery } from './generated/AuditQuery';
export type { AuditRow } from './generated/AuditRow';
export type { AddKeyInput, ApprovalCount, OAuthStartInput } from './calls';
export type { ApprovalInfo } from './generated/ApprovalInfo';
export type { ApprovalStatus } from './generated/ApprovalStatus';
export type { Preview } from './generated/Preview';
export type { PreviewField } from './generated/PreviewField';
export type { AuthMode } from './generated/AuthMode';
export type { Catalog } from './generated/Catalog';
export type { Category } from './generated/Category';
export type { CategoryInfo } from './generated/CategoryInfo';
export type { ConnectionError } from './generated/ConnectionError';
export type { ConnectionInfo } from './generated/ConnectionInfo';
export type { ConnectionLimits } from './generated/ConnectionLimits';
export type { ConnectionStatus } from './generated/ConnectionStatus';
export type { ConnectionTest } from './generated/ConnectionTest';
export type { GatewayStatus } from './generated/GatewayStatus';
export type { LimiterStatus } from './generated/LimiterStatus';
export type { OAuthClientInfo } from './generated/OAuthClientInfo';
export type { OAuthFlowStatus } from './generated/OAuthFlowStatus';
export type { OAuthStart } from './generated/OAuthStart';
export type { ProviderEntry } from './generated/ProviderEntry';
export type { ProviderScope } from './generated/ProviderScope';
export type { Tier } from './generated/Tier';
export type { VerifyReport } from './generated/VerifyReport';
export type { SessionInfo } from './generated/SessionInfo';

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
  providers: (): Promise<Catalog> => run(providersCall()),
  connections: (): Promise<ConnectionInfo[]> => run(connectionsListCall()),
  connectionAddKey: (input: AddKeyInput): Promise<ConnectionInfo> => run(connectionAddKeyCall(input)),
  connectionTest: (id: string): Promise<ConnectionTest> => run(connectionTestCall(id)),
  connectionRemove: (id: string): Promise<ConnectionInfo> => run(connectionRemoveCall(id)),
  connectionSetScopes: (id: string, scopes: string[]): Promise<ConnectionInfo> => run(connectionSetScopesCall(id, scopes)),
  connectionSetRotation: (id: string, everyDays: number | null): Promise<ConnectionInfo> =>
    run(connectionSetRotationCall(id, everyDays)),
  oauthStart: (input: OAuthStartInput): Promise<OAuthStart> => run(oauthStartCall(input)),
  oauthStatus: (flowId: string, waitSecs: number): Promise<OAuthFlowStatus> => run(oauthStatusCall(flowId, waitSecs)),
  oauthClients: (): Promise<OAuthClientInfo[]> => run(oauthClientsCall()),
  oauthClientSet: (provider: string, clientId: string, clientSecret: string | null): Promise<OAuthClientInfo> =>
    run(oauthClientSetCall(provider, clientId, clientSecret)),
  rateLimits: (): Promise<ConnectionLimits[]> => run(rateLimitsCall()),
  approvals: (status: ApprovalStatus | null, limit: number | null = null): Promise<ApprovalInfo[]> =>
    run(approvalsListCall(status, limit)),
  approvalsCount: (): Promise<ApprovalCount> => run(approvalsCountCall()),
  approval: (id: string): Promise<ApprovalInfo> => run(approvalGetCall(id)),
  approvalApprove: (id: string, edit: Record<string, unknown> | null): Promise<ApprovalInfo> =>
    run(approvalApproveCall(id, edit)),
  approvalReject: (id: string, reason: string): Promise<ApprovalInfo> => run(approvalRejectCall(id, reason)),
  approvalConfirm: (id: string, sent: boolean): Promise<ApprovalInfo> => run(approvalConfirmCall(id, sent)),
  approvalsApproveBulk: (ids: string[]): Promise<ApprovalInfo[]> => run(approvalsApproveBulkCall(ids)),
  pauseState: (): Promise<PauseState> => run(pauseStateCall()),
  pauseSet: (paused: boolean): Promise<PauseState> => run(pauseSetCall(paused)),
  session: (): Promise<SessionInfo> => run(sessionGetCall()),
  sessionSetName: (name: string): Promise<SessionInfo> => run(sessionSetNameCall(name)),
};
