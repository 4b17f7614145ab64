//! `switchboard providers`: the running gateway's provider catalog, as a table per category or
//! (`--json`) the whole catalog.

use std::path::Path;

use switchboard_api::catalog::{Catalog, LimitUnit, ProviderEntry, RateLimit};
use switchboard_core::ApiError;

use crate::{client, output};

pub async fn run(data_dir: &Path, json: bool) -> Result<(), ApiError> {
    let catalog: Catalog = client::control_get(data_dir, "/providers").await?;
    if json {
        return crate::output::json(&catalog);
    }
    crate::output::text(&table(&catalog))
}

const HEADERS: [&str; 5] = ["ID", "NAME", "AUTH", "RATE LIMIT", "SCOPES"];

fn row(p: &ProviderEntry) -> [String; 5] {
    let auth = p.auth_modes.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
    let limit = p.rate_limits.first().map_or_else(|| "not published".to_string(), rate_summary);
    [p.id.clone(), p.name.clone(), auth, limit, p.scopes.len().to_string()]
}

/// `100 req / 10 s per account`, from the bucket that paces ordinary calls.
fn rate_summary(r: &RateLimit) -> String {
    let unit = match r.unit {
        LimitUnit::Requests => "req",
        LimitUnit::QuotaUnits => "units",
        LimitUnit::CostPoints => "points",
    };
    let window = match r.per_seconds {
        1 => "s".to_string(),
        60 => "min".to_string(),
        3600 => "h".to_string(),
        86400 => "day".to_string(),
        n => format!("{n} s"),
    };
    format!("{} {unit} / {window} per {}", r.requests, r.scope.as_str())
}

/// One block per category, columns aligned across the whole table.
fn table(catalog: &Catalog) -> String {
    let rows: Vec<(&ProviderEntry, Vec<String>)> = catalog.providers().iter().map(|p| (p, row(p).to_vec())).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|(_, r)| r.clone()).collect();
    let widths = output::widths(&HEADERS, &cells);
    let line = |cells: &[String]| output::aligned(cells, &widths, "  ");
    let mut out = String::new();
    for info in &catalog.categories {
        let in_cat: Vec<_> = rows.iter().filter(|(p, _)| p.category == info.id).collect();
        if in_cat.is_empty() {
            continue;
        }
        out.push_str(&format!("{}\n", info.name));
        out.push_str(&output::aligned(&HEADERS, &widths, "  "));
        for (_, r) in in_cat {
            out.push_str(&line(r));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{} providers. `switchboard providers --json` adds each scope with its tier, the OAuth endpoints, every rate limit, pagination and webhook schemes.\n",
        catalog.providers().len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_groups_by_category_and_summarises_the_first_bucket() {
        let t = table(switchboard_connectors::catalog());
        let crm = t.find("CRM\n").expect("a CRM block");
        let support = t.find("Support\n").expect("a Support block");
        assert!(crm < support, "categories should print in catalog order:\n{t}");
        let hubspot = t.lines().find(|l| l.trim_start().starts_with("hubspot ")).expect("a hubspot row");
        assert!(hubspot.contains("100 req / 10 s per account"), "hubspot's first bucket should be summarised: {hubspot}");
        let snowflake = t.lines().find(|l| l.trim_start().starts_with("snowflake ")).expect("a snowflake row");
        assert!(snowflake.contains("not published"), "a provider without a figure should say so: {snowflake}");
        assert!(t.contains("19 providers."), "the footer should count the providers:\n{t}");
    }
}
