// Placeholder written by hand in the shape ts-rs generates; the Rust ts-rs export overwrites it.
import type { BadRow } from "./BadRow";

export type VerifyReport = { intact: boolean, rows: number, head_hash: string | null, first_bad: BadRow | null, message: string, };
