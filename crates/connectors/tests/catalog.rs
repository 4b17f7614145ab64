//! Validates `catalog/providers.toml`: every check collects its problems in user terms
//! ("hubspot: scope crm.objects.contacts.read has no description") and the test lists them all.

use std::collections::{BTreeSet, HashSet};

use switchboard_connectors::{
    AuthMode, CATALOG_TOML, Catalog, Category, LimitScope, LimitUnit, LoopbackRedirect, ParamSource, PkceSupport, WebhookScheme, catalog, parse,
};
use switchboard_core::Tier;

/// The fixed set of tools, with their categories (DESIGN.md §1).
const EXPECTED: [(&str, Category); 19] = [
    ("hubspot", Category::Crm),
    ("salesforce", Category::Crm),
    ("pipedrive", Category::Crm),
    ("gmail", Category::EmailCalendar),
    ("outlook", Category::EmailCalendar),
    ("google-calendar", Category::EmailCalendar),
    ("slack", Category::Communication),
    ("microsoft-teams", Category::Communication),
    ("discord", Category::Communication),
    ("airtable", Category::Data),
    ("notion", Category::Data),
    ("google-sheets", Category::Data),
    ("snowflake", Category::Data),
    ("stripe", Category::CommerceFinance),
    ("shopify", Category::CommerceFinance),
    ("quickbooks", Category::CommerceFinance),
    ("zendesk", Category::Support),
    ("intercom", Category::Support),
    ("freshdesk", Category::Support),
];

/// Providers that publish no numeric rate limit; each must say so in `rate_limit_note`.
const NO_PUBLISHED_LIMIT: [&str; 1] = ["snowflake"];

fn parsed() -> Catalog {
    parse(CATALOG_TOML).unwrap_or_else(|e| panic!("crates/connectors/catalog/providers.toml does not parse: {e}"))
}

fn assert_no_problems(what: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "{what}: {} problem(s):\n  - {}", problems.len(), problems.join("\n  - "));
}

/// An enum as it is spelled in the catalog file (`testing_only`).
fn wire<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v).ok().and_then(|j| j.as_str().map(str::to_string)).unwrap_or_default()
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// One plain sentence: starts with a capital letter, ends with a full stop, no second sentence.
fn sentence_problem(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if t.is_empty() {
        return Some("is empty");
    }
    if !t.chars().next().is_some_and(|c| c.is_uppercase()) {
        return Some("does not start with a capital letter");
    }
    if !t.ends_with('.') {
        return Some("does not end with a full stop");
    }
    if t.trim_end_matches('.').contains(". ") {
        return Some("is more than one sentence");
    }
    None
}

/// `{name}` placeholders in a URL template.
fn placeholders(url: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = url;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

#[test]
fn the_catalog_parses_and_is_served_once() {
    let c = catalog();
    assert_eq!(c, &parsed(), "catalog() should be the embedded file, parsed");
    assert!(std::ptr::eq(c, catalog()), "catalog() should parse once and hand out the same value");
    assert_eq!(c.providers().len(), 19, "the catalog should hold the 19 tools");
    let hubspot = c.get("hubspot").expect("hubspot is in the catalog");
    assert_eq!(hubspot.name, "HubSpot");
    assert_eq!(hubspot.scope("crm.objects.contacts.read").map(|s| s.tier), Some(Tier::Read));
    assert!(c.get("no-such-tool").is_none(), "an unknown id should not be found");
}

#[test]
fn exactly_the_nineteen_tools_each_once_in_its_category() {
    let c = parsed();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for p in &c.providers {
        if !seen.insert(p.id.as_str()) {
            problems.push(format!("{}: the id appears more than once", p.id));
        }
        if p.id.is_empty() || !p.id.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-') {
            problems.push(format!("{}: ids are lowercase letters, digits and dashes", p.id));
        }
        if blank(&p.name) {
            problems.push(format!("{}: has no name", p.id));
        }
        match EXPECTED.iter().find(|(id, _)| *id == p.id) {
            None => problems.push(format!("{}: is not one of the 19 supported tools (add it to EXPECTED if it should be)", p.id)),
            Some((_, cat)) if *cat != p.category => {
                problems.push(format!("{}: belongs in category {}, not {}", p.id, cat.as_str(), p.category.as_str()))
            }
            Some(_) => {}
        }
    }
    for (id, _) in EXPECTED {
        if !seen.contains(id) {
            problems.push(format!("{id}: is missing from the catalog"));
        }
    }
    assert_no_problems("provider ids", problems);
}

#[test]
fn all_six_categories_are_named_and_used() {
    let c = parsed();
    let mut problems = Vec::new();
    let listed: Vec<Category> = c.categories.iter().map(|ci| ci.id).collect();
    if listed != Category::ALL {
        problems.push(format!("the categories should be listed once each, in display order {:?}; found {listed:?}", Category::ALL));
    }
    for ci in &c.categories {
        if blank(&ci.name) {
            problems.push(format!("category {}: has no display name", ci.id.as_str()));
        }
    }
    for cat in Category::ALL {
        if c.in_category(cat).next().is_none() {
            problems.push(format!("category {}: has no provider", cat.as_str()));
        }
    }
    // Grouped by category, in display order, so lists read naturally.
    let order: Vec<usize> = c.providers.iter().map(|p| Category::ALL.iter().position(|x| *x == p.category).unwrap_or(99)).collect();
    if !order.windows(2).all(|w| w[0] <= w[1]) {
        problems.push("providers should be grouped by category in display order".into());
    }
    assert_no_problems("categories", problems);
}

#[test]
fn every_scope_has_a_tier_and_one_plain_sentence() {
    let c = parsed();
    let mut problems = Vec::new();
    for p in &c.providers {
        let mut strings = HashSet::new();
        for s in &p.scopes {
            if blank(&s.scope) {
                problems.push(format!("{}: a scope has an empty scope string", p.id));
            }
            if !strings.insert(s.scope.as_str()) {
                problems.push(format!("{}: scope {} is listed twice", p.id, s.scope));
            }
            match sentence_problem(&s.description) {
                Some("is empty") => problems.push(format!("{}: scope {} has no description", p.id, s.scope)),
                Some(why) => problems.push(format!("{}: the description of scope {} {why}: {:?}", p.id, s.scope, s.description)),
                None => {}
            }
            for t in &s.also_unlocks {
                if rank(*t) <= rank(s.tier) {
                    problems.push(format!("{}: scope {} lists {} in also_unlocks, which is not above its tier", p.id, s.scope, t.as_str()));
                }
            }
            if s.note.as_deref().is_some_and(blank) {
                problems.push(format!("{}: scope {} has an empty note", p.id, s.scope));
            }
        }
        if p.scopes.is_empty() && p.scopes_note.as_deref().is_none_or(blank) {
            problems.push(format!("{}: lists no scopes and has no scopes_note saying why", p.id));
        }
    }
    assert_no_problems("scopes", problems);
}

fn rank(t: Tier) -> u8 {
    match t {
        Tier::Read => 0,
        Tier::Write => 1,
        Tier::Delete => 2,
    }
}

#[test]
fn read_only_scopes_are_listed_scopes_of_tier_read() {
    let c = parsed();
    let mut problems = Vec::new();
    for p in &c.providers {
        let mut seen = HashSet::new();
        for r in &p.read_only_scopes {
            if !seen.insert(r.as_str()) {
                problems.push(format!("{}: read-only scope {r} is listed twice", p.id));
            }
            match p.scope(r) {
                None => problems.push(format!("{}: read-only scope {r} is not one of its scopes", p.id)),
                Some(s) if s.tier != Tier::Read => {
                    problems.push(format!("{}: read-only scope {r} has tier {}, not read", p.id, s.tier.as_str()))
                }
                Some(_) => {}
            }
        }
        if !p.scopes.is_empty() && p.read_only_scopes.is_empty() && p.scopes_note.as_deref().is_none_or(blank) {
            problems.push(format!("{}: has scopes but no read-only set, and no scopes_note saying why", p.id));
        }
    }
    assert_no_problems("read-only scopes", problems);
}

#[test]
fn every_url_is_https_and_every_placeholder_is_declared() {
    let c = parsed();
    let mut problems = Vec::new();
    for p in &c.providers {
        let declared: BTreeSet<&str> = p.tenant_params.iter().map(|t| t.name.as_str()).collect();
        let mut used = BTreeSet::new();
        for (field, url) in p.urls() {
            if url.chars().any(char::is_whitespace) {
                problems.push(format!("{}: {field} contains whitespace: {url:?}", p.id));
            }
            // A URL may start with a host handed over at connect time ({instance_url}); that
            // value comes from the provider's own https response.
            let from_response = url.strip_prefix('{').and_then(|r| r.split_once('}')).is_some_and(|(name, _)| {
                p.tenant_params.iter().any(|t| t.name == name && t.source == ParamSource::TokenResponse)
            });
            if !url.starts_with("https://") && !from_response {
                problems.push(format!("{}: {field} is not https: {url}", p.id));
            }
            for ph in placeholders(url) {
                used.insert(ph);
                if !declared.contains(ph) {
                    problems.push(format!("{}: {field} uses {{{ph}}} but tenant_params does not declare it", p.id));
                }
            }
        }
        for t in &p.tenant_params {
            if !used.contains(t.name.as_str()) {
                problems.push(format!("{}: tenant param {} is declared but no URL uses it", p.id, t.name));
            }
            if let Some(why) = sentence_problem(&t.description) {
                problems.push(format!("{}: the description of tenant param {} {why}", p.id, t.name));
            }
        }
    }
    assert_no_problems("URLs", problems);
}

#[test]
fn oauth_entries_match_their_auth_modes_and_explain_loopback() {
    let c = parsed();
    let mut problems = Vec::new();
    for p in &c.providers {
        if p.auth_modes.is_empty() {
            problems.push(format!("{}: lists no auth mode", p.id));
        }
        let unique: HashSet<AuthMode> = p.auth_modes.iter().copied().collect();
        if unique.len() != p.auth_modes.len() {
            problems.push(format!("{}: lists an auth mode twice", p.id));
        }
        let wants_oauth = p.auth_modes.iter().any(|m| m.is_oauth());
        let pasted = p.auth_modes.iter().any(|m| !m.is_oauth());
        if pasted && p.credential_hint.as_deref().is_none_or(blank) && !p.auth_modes.contains(&AuthMode::KeyPairJwt) {
            problems.push(format!("{}: takes a pasted credential but has no credential_hint saying how it is sent", p.id));
        }
        match (&p.oauth, wants_oauth) {
            (None, true) => problems.push(format!("{}: lists an OAuth auth mode but has no [oauth] endpoints", p.id)),
            (Some(_), false) => problems.push(format!("{}: has [oauth] endpoints but no OAuth auth mode", p.id)),
            _ => {}
        }
        let Some(o) = &p.oauth else { continue };
        if blank(&o.authorize_url) {
            problems.push(format!("{}: OAuth has no authorize URL", p.id));
        }
        if blank(&o.token_url) {
            problems.push(format!("{}: OAuth has no token URL", p.id));
        }
        if o.loopback_redirect != LoopbackRedirect::Allowed && o.loopback_note.as_deref().is_none_or(blank) {
            problems.push(format!(
                "{}: loopback redirect is {} but no loopback_note says why and what to use instead",
                p.id,
                wire(o.loopback_redirect)
            ));
        }
        if o.scope_separator.is_empty() {
            problems.push(format!("{}: OAuth scope_separator is empty", p.id));
        }
        if p.auth_modes.contains(&AuthMode::OauthPublic) && o.pkce == PkceSupport::NotSupported {
            problems.push(format!("{}: is listed as a public OAuth client but PKCE is not supported", p.id));
        }
    }
    assert_no_problems("auth", problems);
}

#[test]
fn every_provider_has_a_usable_rate_limit_or_says_none_is_published() {
    let c = parsed();
    let mut problems = Vec::new();
    for p in &c.providers {
        for r in &p.rate_limits {
            if r.requests == 0 || r.per_seconds == 0 {
                problems.push(format!("{}: rate limit {:?} needs requests > 0 and per_seconds > 0", p.id, r.description));
            }
            if blank(&r.description) {
                problems.push(format!("{}: a rate limit has no description", p.id));
            }
            if !r.methods.is_empty() && !matches!(r.scope, LimitScope::Method | LimitScope::Resource) {
                problems.push(format!("{}: rate limit {:?} names methods, so its scope must be method or resource", p.id, r.description));
            }
            if (r.scope == LimitScope::Resource && !r.methods.is_empty()) != r.per_argument.is_some() {
                problems.push(format!("{}: rate limit {:?}: a per-resource bucket of named methods needs per_argument (and only it)", p.id, r.description));
            }
            for m in &r.methods {
                let holders = p.rate_limits.iter().filter(|x| x.methods.contains(m)).count();
                if holders > 1 || blank(m) || m.starts_with('/') {
                    problems.push(format!("{}: method {m:?} must be named once, without a leading /", p.id));
                }
            }
        }
        if p.rate_limits.iter().any(|r| !r.methods.is_empty()) && !p.rate_limits.iter().any(|r| r.scope == LimitScope::Method) {
            problems.push(format!("{}: paces named methods but has no per-method bucket for the others", p.id));
        }
        let usable = p.rate_limits.iter().any(|r| r.requests > 0 && r.per_seconds > 0);
        let exempt = NO_PUBLISHED_LIMIT.contains(&p.id.as_str());
        if exempt {
            if !p.rate_limits.is_empty() {
                problems.push(format!("{}: now has rate limits; remove it from NO_PUBLISHED_LIMIT", p.id));
            }
            if p.rate_limit_note.as_deref().is_none_or(|n| !n.contains("no numeric") && !n.contains("no figure")) {
                problems.push(format!("{}: publishes no limit, so rate_limit_note must say there is no figure", p.id));
            }
        } else if !usable {
            problems.push(format!("{}: has no rate limit with requests > 0 and per_seconds > 0", p.id));
        }
        if let Some(cl) = &p.concurrency
            && cl.max_in_flight == 0
        {
            problems.push(format!("{}: a concurrency limit of 0 would block every call", p.id));
        }
        if !p.quota_costs.is_empty() && !p.rate_limits.iter().any(|r| r.unit == LimitUnit::QuotaUnits) {
            problems.push(format!("{}: has quota costs but no quota-unit bucket", p.id));
        }
        if p.throttle_statuses.is_empty() {
            problems.push(format!("{}: lists no status the provider uses to throttle", p.id));
        }
    }
    assert_no_problems("rate limits", problems);
}

#[test]
fn pagination_and_webhooks_are_complete() {
    let c = parsed();
    let mut problems = Vec::new();
    for p in &c.providers {
        if p.pagination.is_empty() {
            problems.push(format!("{}: says nothing about pagination", p.id));
        }
        let Some(w) = &p.webhook else { continue };
        let needs_signature = !matches!(w.scheme, WebhookScheme::GraphClientState | WebhookScheme::BasicAuth | WebhookScheme::None);
        if needs_signature && w.signature_header.as_deref().is_none_or(blank) {
            problems.push(format!("{}: webhook scheme {} needs the signature header name", p.id, wire(w.scheme)));
        }
        let timestamped = matches!(
            w.scheme,
            WebhookScheme::SlackV0 | WebhookScheme::HubspotV3 | WebhookScheme::Ed25519 | WebhookScheme::HmacSha256Base64Timestamp
        );
        if timestamped && w.timestamp_header.as_deref().is_none_or(blank) {
            problems.push(format!("{}: webhook scheme {} signs a timestamp but names no timestamp header", p.id, wire(w.scheme)));
        }
        if needs_signature && w.signing_key.as_deref().is_none_or(blank) {
            problems.push(format!("{}: webhook does not say which key verifies it", p.id));
        }
        if matches!(w.scheme, WebhookScheme::None | WebhookScheme::BasicAuth) && w.note.as_deref().is_none_or(blank) {
            problems.push(format!("{}: webhook has no signature, and no note says what to rely on", p.id));
        }
    }
    assert_no_problems("pagination and webhooks", problems);
}

#[test]
fn the_catalog_survives_the_json_round_trip_the_ui_and_cli_use() {
    let c = parsed();
    let json = serde_json::to_string(&c).expect("the catalog serializes to JSON");
    let back: Catalog = serde_json::from_str(&json).expect("the JSON reads back");
    assert_eq!(back, c, "the JSON form must carry every field");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json value");
    assert_eq!(v["providers"][0]["category"], serde_json::json!("crm"), "categories use their snake_case ids on the wire");
}

#[test]
fn unknown_fields_in_the_catalog_are_rejected() {
    let bad = CATALOG_TOML.replacen("docs_url =", "docs_ulr =", 1);
    let err = parse(&bad).expect_err("a misspelled field must not parse");
    assert!(err.to_string().contains("docs_ulr"), "the error should name the bad field: {err}");
}
