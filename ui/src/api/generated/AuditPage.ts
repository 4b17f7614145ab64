// Placeholder written by hand in the shape ts-rs generates; the Rust ts-rs export overwrites it.
import type { AuditRow } from "./AuditRow";

export type AuditPage = { rows: Array<AuditRow>, next_before_id: number | null, };
