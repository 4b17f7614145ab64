//! Printing results and errors, for people or (`--json`) for scripts.

use switchboard_core::ApiError;

pub fn error(e: &ApiError, json: bool) {
    if json {
        println!("{}", serde_json::to_string(e).unwrap_or_else(|_| format!("{{\"code\":\"internal\",\"message\":{:?}}}", e.message)));
    }
    eprintln!("error: {}", e.message);
}

pub fn json<T: serde::Serialize>(v: &T) -> Result<(), ApiError> {
    let s = serde_json::to_string(v).map_err(|e| ApiError::internal(e.to_string()))?;
    text(&format!("{s}\n"))
}

/// Writes to stdout. A reader that stopped early (`| head`) is not an error.
pub fn text(s: &str) -> Result<(), ApiError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(ApiError::internal(format!("cannot write to stdout: {e}"))),
    }
}

/// `2026-11-26 14:05:01 UTC` from UTC milliseconds.
pub fn time(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Column widths (in characters) that fit the headers and every row.
pub fn widths(headers: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in w.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    w
}

/// One line: `indent`, then the cells padded to `widths`, two spaces apart, no trailing spaces.
pub fn aligned<S: AsRef<str>>(cells: &[S], widths: &[usize], indent: &str) -> String {
    let mut s = String::from(indent);
    for (cell, w) in cells.iter().zip(widths) {
        s.push_str(&format!("{:<w$}  ", cell.as_ref()));
    }
    s.trim_end().to_string() + "\n"
}

/// A header line and one aligned line per row.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let w = widths(headers, rows);
    let mut out = aligned(headers, &w, "");
    for r in rows {
        out.push_str(&aligned(r, &w, ""));
    }
    out
}
