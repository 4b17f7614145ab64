// The ONLY module that talks to the backend. Screens import from here.
import { invoke } from '@tauri-apps/api/core';
import {
  agentAddCall,
  agentRevokeCall,
  agentsListCall,
  grantRevokeCall,
  grantSetCall,
  grantsListCall,
  plannerCall,
  requestDismissCall,
  requestGrantCall,
  requestsListCall,
  type RequestStatus,
  approvalApproveCall,
  approvalConfirmCall,
  approvalGetCall,
  approvalRejectCall,
  approvalsApproveBulkCall,
  approvalsCountCall,
  pauseSetCall,
  pauseStateCall,
  approvalsListCall,
  auditChainCall,
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
  connectionChecklistCall,
  policiesListCall,
  policyAddCall,
  policyPresetsCall,
  policyRemoveCall,
  preferencesCall,
  preferencesSetCall,
  type AddKeyInput,
  type ApprovalCount,
  type OAuthStartInput,
} from './calls';
import { ApiFailure } from './errors';
import { createHttpTransport, createTauriTransport, detectTransportKind, type Call, type Transport } from './transport';
import type { AccessRequestInfo } from './generated/AccessRequestInfo';
import type { AgentInfo } from './generated/AgentInfo';
import type { GrantInfo } from './generated/GrantInfo';
import type { GrantRequest } from './generated/GrantRequest';
import type { NewAgent } from './generated/NewAgent';
import type { PlannerReport } from './generated/PlannerReport';
import type { Tier } from './generated/Tier';
import type { ApprovalInfo } from './generated/ApprovalInfo';
import type { ApprovalStatus } from './generated/ApprovalStatus';
import type { AuditPage } from './generated/AuditPage';
import type { AuditQuery } from './generated/AuditQuery';
import type { AuditRow } from './generated/AuditRow';
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
import type { PolicyInfo } from './generated/PolicyInfo';
import type { PolicyPreset } from './generated/PolicyPreset';
import type { Preferences } from './generated/Preferences';
import type { ScopeChecklist } from './generated/ScopeChecklist';

export { ApiFailure, toFailure, type FailureCode } from './errors';
export { exportAudit, saveDownload, type ExportDone, type ExportFormat, type ExportProgress } from './export';
export { subscribeLive, type LiveEvent, type LiveKind, type LiveMessage } from './live';
export type { TransportKind } from './transport';
export type { ActorKind } from './generated/ActorKind';
export type { AuditPage } from './generated/AuditPage';
export type { AuditQuery } from './generated/AuditQuery';
export type { AuditRow } from './generated/AuditRow';
export type { AddKeyInput, ApprovalCount, OAuthStartInput } from './calls';
export type { ApprovalInfo } from './generated/ApprovalInfo';
export type { AccessRequestInfo } from './generated/AccessRequestInfo';
export type { AgentInfo } from './generated/AgentInfo';
export type { GrantInfo } from './generated/GrantInfo';
export type { GrantRequest } from './generated/GrantRequest';
export type { NewAgent } from './generated/NewAgent';
export type { IntegrationPlan } from './generated/IntegrationPlan';
export type { PlannedScope } from './generated/PlannedScope';
export type { PlannedTool } from './generated/PlannedTool';
export type { PlannerReport } from './generated/PlannerReport';
export type { WorkflowPlan } from './generated/WorkflowPlan';
export type { RequestStatus } from './calls';
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
export type { Bucket } from './generated/Bucket';
export type { Money } from './generated/Money';
export type { Policy } from './generated/Policy';
export type { PolicyInfo } from './generated/PolicyInfo';
export type { PolicyPreset } from './generated/PolicyPreset';
export type { Preferences } from './generated/Preferences';
export type { ScopeChecklist } from './generated/ScopeChecklist';
export type { ScopeItem } from './generated/ScopeItem';
export type { TierItem } from './generated/TierItem';
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
  auditChain: (id: string): Promise<AuditRow[]> => run(auditChainCall(id)),
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
  agents: (): Promise<AgentInfo[]> => run(agentsListCall()),
  agentAdd: (name: string): Promise<NewAgent> => run(agentAddCall(name)),
  agentRevoke: (name: string): Promise<unknown> => run(agentRevokeCall(name)),
  grants: (agent: string | null = null): Promise<GrantInfo[]> => run(grantsListCall(agent)),
  grantSet: (request: GrantRequest): Promise<GrantInfo> => run(grantSetCall(request)),
  requests: (status: RequestStatus): Promise<AccessRequestInfo[]> => run(requestsListCall(status)),
  requestGrant: (id: string): Promise<AccessRequestInfo> => run(requestGrantCall(id)),
  requestDismiss: (id: string): Promise<AccessRequestInfo> => run(requestDismissCall(id)),
  planner: (): Promise<PlannerReport> => run(plannerCall()),
  connectionChecklist: (id: string): Promise<ScopeChecklist> => run(connectionChecklistCall(id)),
  grantRevoke: (agent: string, connection: string, tier: Tier): Promise<{ revoked: boolean }> =>
    run(grantRevokeCall(agent, connection, tier)),
  policies: (): Promise<PolicyInfo[]> => run(policiesListCall()),
  policyAdd: (format: 'toml' | 'json', text: string): Promise<PolicyInfo> => run(policyAddCall(format, text)),
  policyRemove: (id: string): Promise<{ removed: string }> => run(policyRemoveCall(id)),
  policyPresets: (agent: string): Promise<PolicyPreset[]> => run(policyPresetsCall(agent)),
  preferences: (): Promise<Preferences> => run(preferencesCall()),
  preferencesSet: (prefs: Preferences): Promise<Preferences> => run(preferencesSetCall(prefs)),
  session: (): Promise<SessionInfo> => run(sessionGetCall()),
  sessionSetName: (name: string): Promise<SessionInfo> => run(sessionSetNameCall(name)),
};
