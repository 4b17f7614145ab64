//! `switchboard audit verify | export | search`: read the data dir's database directly
//! (read-only), so they work with or without a running gateway.

use std::io::Write;
use std::path::Path;

use switchboard_api::offline;
use switchboard_core::{ApiError, AuditQuery};
use switchboard_store::audit::ExportFormat;

use crate::cli::{AuditCommand, ExportFormat as Fmt};

pub fn run(data_dir: &Path, cmd: AuditCommand, json: bool) -> Result<(), ApiError> {
    match cmd {
        AuditCommand::Verify => {
            let report = offline::verify(data_dir)?;
            if json {
                crate::output::json(&report)?;
            } else if report.intact {
                println!("{}", report.message);
                if let Some(h) = &report.head_hash {
                    println!("head {h}");
                }
            } else {
                eprintln!("{}", report.message);
            }
            if !report.intact {
                std::process::exit(1);
            }
            Ok(())
        }
        AuditCommand::Export { format, output } => {
            let format = match format {
                Fmt::Jsonl => ExportFormat::Jsonl,
                Fmt::Csv => ExportFormat::Csv,
            };
            let n = match &output {
                Some(path) => {
                    let tmp = path.with_extension("partial");
                    let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| ApiError::bad_request(format!("cannot create {}: {e}", tmp.display())))?);
                    let n = offline::export(data_dir, format, &mut file)?;
                    file.flush().map_err(|e| ApiError::bad_request(format!("cannot write {}: {e}", tmp.display())))?;
                    drop(file);
                    std::fs::rename(&tmp, path).map_err(|e| ApiError::bad_request(format!("cannot write {}: {e}", path.display())))?;
                    n
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    let n = offline::export(data_dir, format, &mut out)?;
                    let _ = out.flush();
                    n
                }
            };
            eprintln!("exported {n} audit rows");
            Ok(())
        }
        AuditCommand::Search { text, limit } => {
            if !(1..=500).contains(&limit) {
                return Err(ApiError::bad_request("--limit must be from 1 to 500"));
            }
            let page = offline::search(data_dir, &AuditQuery { text: Some(text), limit: Some(limit), ..AuditQuery::default() })?;
            if json {
                return crate::output::json(&page);
            }
            if page.rows.is_empty() {
                println!("no audit rows match");
            }
            for r in &page.rows {
                println!(
                    "{:>8}  {}  {}:{}  {}  {}  {}",
                    r.id,
                    crate::output::time(r.ts_ms),
                    r.actor_kind.as_str(),
                    r.actor_id,
                    r.action,
                    r.decision,
                    r.outcome
                );
            }
            Ok(())
        }
    }
}
