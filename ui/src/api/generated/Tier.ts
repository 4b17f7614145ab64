// Placeholder written by hand in the shape ts-rs generates; the Rust ts-rs export overwrites it.
export type Tier = "read" | "write" | "delete";
