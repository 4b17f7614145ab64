// Placeholder written by hand in the shape ts-rs generates; the Rust ts-rs export overwrites it.
import type { ActorKind } from "./ActorKind";

export type AuditQuery = { text: string | null, actor_kind: ActorKind | null, decision: string | null, before_id: number | null, limit: number | null, };
