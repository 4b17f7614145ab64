// Placeholder written by hand in the shape ts-rs generates; the Rust ts-rs export overwrites it.
import type { ErrorCode } from "./ErrorCode";

export type ApiError = { code: ErrorCode, message: string, };
