// Placeholder written by hand in the shape ts-rs generates; the Rust ts-rs export overwrites it.
import type { ActorKind } from "./ActorKind";
import type { Tier } from "./Tier";

export type AuditRow = { id: number, ts_ms: number, actor_kind: ActorKind, actor_id: string, trigger: string | null, correlation_id: string | null, connection_id: string | null, action: string, tier: Tier | null, decision: string, outcome: string, provider_ids: Array<string>, latency_ms: number | null, summary: unknown, prev_hash: string, hash: string, };
