// Placeholder written by hand in the shape ts-rs generates; the Rust ts-rs export overwrites it.
export type GatewayStatus = { version: string, url: string, data_dir: string, started_at_ms: number, audit_rows: number, keychain: string, };
