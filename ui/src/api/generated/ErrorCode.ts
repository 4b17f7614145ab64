// Placeholder written by hand in the shape ts-rs generates; the Rust ts-rs export overwrites it.
export type ErrorCode = "bad_request" | "unauthorized" | "forbidden" | "not_found" | "conflict" | "audit_unavailable" | "storage_full" | "storage_read_only" | "storage_corrupt" | "keychain_unavailable" | "internal";
