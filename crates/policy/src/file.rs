//! The policy file (`switchboard policies add FILE`) and the checks every new policy passes,
//! whether it comes from a file, the UI or a preset.
//!
//! The format is TOML (the UI sends the same shape as JSON). Unknown fields are refused, and
//! every error names the field:
//!
//! ```toml
//! id = "appointment-confirmations"        # 1-100 of A-Z a-z 0-9 . _ -
//! name = "Appointment confirmations"
//! agent = "sales-bot"
//! actions = ["gmail_send_message"]        # outbound, not destructive
//! enabled = true                          # optional, default true
//!
//! [conditions]                            # at least one; every one set must hold
//! recipient_has_booked_meeting = true
//! template_tag = "appointment-confirmation"
//! recipient_domains = ["clinic.example"]  # every recipient in one of these
//! channels = ["C0123ABC"]
//! amount_at_most = { minor_units = 50000, currency = "USD" }
//!
//! [caps]                                  # at least one
//! per_hour = 10
//! per_day = 50
//!
//! [window]                                # optional: local time, end exclusive
//! days = ["mon", "tue", "wed", "thu", "fri"]
//! start = "08:00"
//! end = "18:00"
//! ```
//!
//! Rules refused as impossible or unsafe, and why:
//! * a tool Switchboard does not know, a read action, or a write that is not outbound — it runs
//!   on the agent's grant alone, so the policy would have nothing to allow;
//! * a delete-tier or destructive tool — destructive actions always wait for a person; an
//!   auto-sent delete or refund cannot be taken back, and the approval queue is the only defence
//!   against an agent misled by text it read;
//! * no condition — it would send anything the agent writes, to anyone;
//! * no cap — a misled agent could send without bound before anyone notices. Caps of 0 and an
//!   hourly cap above the daily cap are refused as mistakes;
//! * `recipient_has_booked_meeting = false`, empty lists, duplicate entries, a negative amount,
//!   and a window with no days or whose start equals its end.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use switchboard_core::Tier;
use ts_rs::TS;

use crate::policy::Policy;

/// What Switchboard knows about a tool, for checking policies: the api crate builds it from the
/// connector actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionKind {
    pub tier: Tier,
    pub outbound: bool,
    pub destructive: bool,
}

/// Looks up tools by name.
pub trait ActionCatalog {
    fn kind(&self, tool: &str) -> Option<ActionKind>;
}

impl<F: Fn(&str) -> Option<ActionKind>> ActionCatalog for F {
    fn kind(&self, tool: &str) -> Option<ActionKind> {
        self(tool)
    }
}

/// One problem with one field of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FieldError {
    /// Dotted path, e.g. `caps.per_hour` or `conditions.recipient_domains[1]`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

/// Why a policy file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyFileError {
    /// The text is not TOML (or JSON) at all.
    #[error("the policy file is not valid {format}{}: {message}", at_line(*.line))]
    Syntax {
        format: &'static str,
        line: Option<usize>,
        message: String,
    },
    /// A field is unknown, missing or of the wrong shape.
    #[error("policy file{}, field `{field}`: {message}", at_line(*.line))]
    Field {
        field: String,
        line: Option<usize>,
        message: String,
    },
    /// The policy reads well but is not a rule Switchboard accepts.
    #[error("the policy is refused: {}", join(.0))]
    Invalid(Vec<FieldError>),
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

fn field_name(path: &serde_path_to_error::Path) -> String {
    let p = path.to_string();
    if p == "." { "(top level)".into() } else { p }
}

/// Parses and checks a TOML policy file.
pub fn parse_toml(text: &str, catalog: &dyn ActionCatalog) -> Result<Policy, PolicyFileError> {
    let de = toml::Deserializer::parse(text).map_err(|e| PolicyFileError::Syntax {
        format: "TOML",
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let policy: Policy =
        serde_path_to_error::deserialize(de).map_err(|e| PolicyFileError::Field {
            field: field_name(e.path()),
            line: e.inner().span().map(|s| line_of(text, s.start)),
            message: e.inner().message().trim().to_string(),
        })?;
    validate(&policy, catalog).map_err(PolicyFileError::Invalid)?;
    Ok(policy)
}

/// Parses and checks a policy sent as JSON (the control API).
pub fn parse_json(text: &str, catalog: &dyn ActionCatalog) -> Result<Policy, PolicyFileError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let policy: Policy = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            PolicyFileError::Syntax {
                format: "JSON",
                line: Some(inner.line()),
                message: inner.to_string(),
            }
        } else {
            PolicyFileError::Field {
                field: field_name(e.path()),
                line: Some(inner.line()),
                message: inner.to_string(),
            }
        }
    })?;
    de.end().map_err(|e| PolicyFileError::Syntax {
        format: "JSON",
        line: Some(e.line()),
        message: e.to_string(),
    })?;
    validate(&policy, catalog).map_err(PolicyFileError::Invalid)?;
    Ok(policy)
}

/// Checks a policy against the rules in this module's doc; every problem found, in field order.
pub fn validate(p: &Policy, catalog: &dyn ActionCatalog) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };

    if !name_ok(&p.id, 100) {
        bad(
            "id",
            format!(
                "'{}' is not a policy id: use 1-100 letters, digits, '.', '_' or '-'",
                p.id
            ),
        );
    }
    if p.name.trim().is_empty()
        || p.name.chars().count() > 100
        || p.name.chars().any(char::is_control)
    {
        bad(
            "name",
            "give the policy a name of 1-100 characters on one line".into(),
        );
    }
    if !name_ok(&p.agent, 64) {
        bad(
            "agent",
            format!(
                "'{}' is not an agent name: use 1-64 letters, digits, '.', '_' or '-'",
                p.agent
            ),
        );
    }
    if p.actions.is_empty() {
        bad(
            "actions",
            "name at least one tool, e.g. \"gmail_send_message\"".into(),
        );
    }
    for (i, tool) in p.actions.iter().enumerate() {
        let field = format!("actions[{i}]");
        if p.actions[..i].contains(tool) {
            bad(&field, format!("'{tool}' is listed twice"));
            continue;
        }
        match catalog.kind(tool) {
            None => bad(&field, format!("'{tool}' is not a tool Switchboard knows")),
            Some(k) if k.tier == Tier::Delete || k.destructive => bad(
                &field,
                format!(
                    "'{tool}' is destructive ({} tier): destructive actions always wait for a person and cannot be auto-sent",
                    k.tier.as_str()
                ),
            ),
            Some(k) if !k.outbound => bad(
                &field,
                format!(
                    "'{tool}' is not outbound ({} tier): it runs on the agent's grant alone, so an auto-send policy has nothing to allow",
                    k.tier.as_str()
                ),
            ),
            Some(_) => {}
        }
    }

    let c = &p.conditions;
    if c.is_empty() {
        bad(
            "conditions",
            "set at least one condition (recipient_domains, recipient_has_booked_meeting, template_tag, amount_at_most or channels): without one the policy would send anything the agent writes".into(),
        );
    }
    if let Some(domains) = &c.recipient_domains {
        list_ok(&mut bad, "conditions.recipient_domains", domains, "domain");
    }
    if c.recipient_has_booked_meeting == Some(false) {
        bad(
            "conditions.recipient_has_booked_meeting",
            "can only be true (every recipient has a booked meeting); leave it out otherwise"
                .into(),
        );
    }
    if let Some(max) = &c.amount_at_most
        && max.minor_units < 0
    {
        bad(
            "conditions.amount_at_most.minor_units",
            format!(
                "{} is negative; give the largest amount to allow, in minor units (cents)",
                max.minor_units
            ),
        );
    }
    if let Some(channels) = &c.channels {
        list_ok(&mut bad, "conditions.channels", channels, "channel");
    }

    match (p.caps.per_hour, p.caps.per_day) {
        (None, None) => bad(
            "caps",
            "set per_hour, per_day or both: a cap bounds what an agent can send before a person notices".into(),
        ),
        (h, d) => {
            if h == Some(0) {
                bad("caps.per_hour", "a cap of 0 allows nothing; disable the policy instead (enabled = false)".into());
            }
            if d == Some(0) {
                bad("caps.per_day", "a cap of 0 allows nothing; disable the policy instead (enabled = false)".into());
            }
            if let (Some(h), Some(d)) = (h, d)
                && h > d
            {
                bad("caps.per_hour", format!("{h} per hour is more than the {d} per day cap; lower it or raise per_day"));
            }
        }
    }

    if let Some(w) = &p.window {
        if w.days.is_empty() {
            bad("window.days", "name at least one day (mon, tue, wed, thu, fri, sat, sun), or leave the window out".into());
        }
        let mut seen = BTreeSet::new();
        for (i, d) in w.days.iter().enumerate() {
            if !seen.insert(*d) {
                bad(
                    &format!("window.days[{i}]"),
                    format!("'{}' is listed twice", d.as_str()),
                );
            }
        }
        if w.start == w.end {
            bad(
                "window.end",
                format!(
                    "the window starts and ends at {}; give it a length (an end before the start runs past midnight)",
                    w.start
                ),
            );
        }
    }

    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn name_ok(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn list_ok<T: PartialEq + fmt::Display>(
    bad: &mut impl FnMut(&str, String),
    field: &str,
    list: &[T],
    what: &str,
) {
    if list.is_empty() {
        bad(
            field,
            format!(
                "an empty list allows nothing; name at least one {what}, or leave the condition out"
            ),
        );
    }
    for (i, item) in list.iter().enumerate() {
        if list[..i].contains(item) {
            bad(
                &format!("{field}[{i}]"),
                format!("'{item}' is listed twice"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{TimeOfDay, Weekday};

    pub(crate) fn catalog(tool: &str) -> Option<ActionKind> {
        let (tier, outbound) = match tool {
            "gmail_send_message" | "slack_send_direct_message" | "stripe_send_invoice" => {
                (Tier::Write, true)
            }
            "gmail_create_draft" => (Tier::Write, false),
            "gmail_search_messages" => (Tier::Read, false),
            "slack_delete_message" => (Tier::Delete, true),
            "stripe_refund" => {
                return Some(ActionKind {
                    tier: Tier::Write,
                    outbound: true,
                    destructive: true,
                });
            }
            _ => return None,
        };
        Some(ActionKind {
            tier,
            outbound,
            destructive: false,
        })
    }

    const GOOD: &str = r#"
id = "appointment-confirmations"
name = "Appointment confirmations"
agent = "sales-bot"
actions = ["gmail_send_message"]

[conditions]
recipient_has_booked_meeting = true
template_tag = "appointment-confirmation"
recipient_domains = ["clinic.example", "Example.org"]

[caps]
per_hour = 10
per_day = 50

[window]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "22:00"
end = "06:00"
"#;

    fn refused(text: &str) -> Vec<FieldError> {
        match parse_toml(text, &catalog) {
            Err(PolicyFileError::Invalid(errors)) => errors,
            other => panic!("expected the policy to be refused by validation, got {other:?}"),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_good_file_parses_into_the_policy_it_describes() {
        let p = parse_toml(GOOD, &catalog).expect("the example policy must be accepted");
        assert_eq!(p.id, "appointment-confirmations");
        assert!(
            p.enabled,
            "a policy is enabled unless the file says otherwise"
        );
        assert_eq!(p.caps.per_hour, Some(10));
        let domains: Vec<&str> = p
            .conditions
            .recipient_domains
            .iter()
            .flatten()
            .map(|d| d.as_str())
            .collect();
        assert_eq!(
            domains,
            ["clinic.example", "example.org"],
            "domains are kept lower-cased"
        );
        let w = p.window.expect("window");
        assert_eq!(
            (w.days.len(), w.start, w.end),
            (
                5,
                TimeOfDay::new(22, 0).expect("t"),
                TimeOfDay::new(6, 0).expect("t")
            )
        );
        assert_eq!(w.days[0], Weekday::Mon);
    }

    #[test]
    fn the_same_policy_round_trips_through_json() {
        let p = parse_toml(GOOD, &catalog).expect("good policy");
        let json = serde_json::to_string(&p).expect("serialize");
        assert_eq!(
            parse_json(&json, &catalog),
            Ok(p),
            "a policy must read back from its JSON unchanged"
        );
    }

    #[test]
    fn unknown_fields_are_refused_with_their_name() {
        let err = parse_toml(
            &GOOD.replace("per_day = 50", "per_day = 50\nper_week = 100"),
            &catalog,
        )
        .expect_err("an unknown cap must be refused");
        let PolicyFileError::Field {
            field,
            line,
            message,
        } = &err
        else {
            panic!("expected a field error, got {err:?}")
        };
        assert!(
            message.contains("per_week"),
            "the message must name the unknown field: {err}"
        );
        assert_eq!(
            field, "caps.per_week",
            "the error must name the unknown field with its table: {err}"
        );
        assert_eq!(*line, Some(15), "the error must point at the line: {err}");
        let err = parse_toml(&format!("colour = \"red\"\n{GOOD}"), &catalog)
            .expect_err("an unknown top-level field must be refused");
        assert!(
            matches!(&err, PolicyFileError::Field { field, line: Some(1), .. } if field == "colour"),
            "the error must name the unknown field and its line: {err}"
        );
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let err = parse_toml(
            &GOOD.replace("per_hour = 10", "per_hour = \"ten\""),
            &catalog,
        )
        .expect_err("a string cap must be refused");
        assert!(
            matches!(&err, PolicyFileError::Field { field, .. } if field == "caps.per_hour"),
            "the error must name caps.per_hour: {err}"
        );
        let err = parse_toml(
            &GOOD.replace("\"Example.org\"", "\"not a domain\""),
            &catalog,
        )
        .expect_err("a bad domain must be refused");
        assert!(
            matches!(&err, PolicyFileError::Field { field, .. } if field == "conditions.recipient_domains[1]"),
            "the error must name the list entry: {err}"
        );
        assert!(
            err.to_string().contains("not a domain"),
            "the message must quote the bad value: {err}"
        );
        let err = parse_toml(&GOOD.replace("\"22:00\"", "\"10pm\""), &catalog)
            .expect_err("a bad time must be refused");
        assert!(
            matches!(&err, PolicyFileError::Field { field, .. } if field == "window.start"),
            "{err}"
        );
        let err = parse_toml(&GOOD.replace("\"mon\", ", "\"monday\", "), &catalog)
            .expect_err("a bad day must be refused");
        assert!(
            matches!(&err, PolicyFileError::Field { field, .. } if field.starts_with("window.days")),
            "{err}"
        );
        let err = parse_toml(&GOOD.replace("agent = \"sales-bot\"\n", ""), &catalog)
            .expect_err("a missing agent must be refused");
        assert!(
            err.to_string().contains("agent"),
            "the message must name the missing field: {err}"
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        let err =
            parse_toml("id = \"x\"\nname = \n", &catalog).expect_err("broken TOML must be refused");
        assert!(
            matches!(
                err,
                PolicyFileError::Syntax {
                    format: "TOML",
                    line: Some(2),
                    ..
                }
            ),
            "the error must point at line 2: {err}"
        );
        let err = parse_json("{\"id\": ", &catalog).expect_err("broken JSON must be refused");
        assert!(
            matches!(err, PolicyFileError::Syntax { format: "JSON", .. }),
            "{err}"
        );
    }

    #[test]
    fn destructive_read_quiet_and_unknown_tools_are_refused() {
        for (tool, why) in [
            ("slack_delete_message", "destructive"),
            ("stripe_refund", "destructive"),
            ("gmail_search_messages", "not outbound"),
            ("gmail_create_draft", "not outbound"),
            ("gmail_launch_rockets", "not a tool"),
        ] {
            let errors =
                refused(&GOOD.replace("[\"gmail_send_message\"]", &format!("[\"{tool}\"]")));
            assert_eq!(
                fields(&errors),
                ["actions[0]"],
                "'{tool}' must be refused on its own field"
            );
            assert!(
                errors[0].message.contains(why),
                "the refusal of '{tool}' should say it is {why}: {}",
                errors[0].message
            );
        }
        let errors = refused(&GOOD.replace("[\"gmail_send_message\"]", "[]"));
        assert_eq!(fields(&errors), ["actions"]);
        let errors = refused(&GOOD.replace(
            "[\"gmail_send_message\"]",
            "[\"gmail_send_message\", \"gmail_send_message\"]",
        ));
        assert_eq!(
            fields(&errors),
            ["actions[1]"],
            "a duplicate tool is a mistake"
        );
    }

    #[test]
    fn a_policy_needs_a_condition_and_a_cap() {
        let no_conditions = GOOD.replace("recipient_has_booked_meeting = true\ntemplate_tag = \"appointment-confirmation\"\nrecipient_domains = [\"clinic.example\", \"Example.org\"]\n", "");
        assert_eq!(
            fields(&refused(&no_conditions)),
            ["conditions"],
            "a policy with no condition would send anything"
        );
        let no_caps = GOOD.replace("per_hour = 10\nper_day = 50\n", "");
        assert_eq!(
            fields(&refused(&no_caps)),
            ["caps"],
            "a policy with no cap would send without bound"
        );
        let both = no_caps.replace("recipient_has_booked_meeting = true\ntemplate_tag = \"appointment-confirmation\"\nrecipient_domains = [\"clinic.example\", \"Example.org\"]\n", "");
        assert_eq!(
            fields(&refused(&both)),
            ["conditions", "caps"],
            "every problem is reported at once"
        );
    }

    #[test]
    fn impossible_conditions_caps_and_windows_are_refused() {
        let cases = [
            (
                "recipient_has_booked_meeting = true",
                "recipient_has_booked_meeting = false",
                "conditions.recipient_has_booked_meeting",
            ),
            (
                "[\"clinic.example\", \"Example.org\"]",
                "[]",
                "conditions.recipient_domains",
            ),
            (
                "[\"clinic.example\", \"Example.org\"]",
                "[\"clinic.example\", \"CLINIC.example\"]",
                "conditions.recipient_domains[1]",
            ),
            (
                "template_tag = \"appointment-confirmation\"",
                "channels = []",
                "conditions.channels",
            ),
            (
                "template_tag = \"appointment-confirmation\"",
                "amount_at_most = { minor_units = -5, currency = \"USD\" }",
                "conditions.amount_at_most.minor_units",
            ),
            ("per_hour = 10", "per_hour = 0", "caps.per_hour"),
            ("per_day = 50", "per_day = 0", "caps.per_day"),
            ("per_hour = 10", "per_hour = 60", "caps.per_hour"),
            (
                "[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
                "[]",
                "window.days",
            ),
            (
                "[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
                "[\"mon\", \"mon\"]",
                "window.days[1]",
            ),
            ("end = \"06:00\"", "end = \"22:00\"", "window.end"),
            (
                "id = \"appointment-confirmations\"",
                "id = \"has space\"",
                "id",
            ),
            ("agent = \"sales-bot\"", "agent = \"\"", "agent"),
            (
                "name = \"Appointment confirmations\"",
                "name = \"  \"",
                "name",
            ),
        ];
        for (from, to, field) in cases {
            let text = GOOD.replace(from, to);
            assert_ne!(text, GOOD, "test case '{to}' did not change the file");
            let errors = refused(&text);
            assert!(
                fields(&errors).contains(&field),
                "'{to}' must be refused on `{field}`, got {errors:?}"
            );
        }
    }

    #[test]
    fn refusals_read_as_one_message_naming_each_field() {
        let err = parse_toml(
            &GOOD
                .replace("per_hour = 10", "per_hour = 0")
                .replace("[\"gmail_send_message\"]", "[\"slack_delete_message\"]"),
            &catalog,
        )
        .expect_err("two problems");
        let text = err.to_string();
        assert!(
            text.contains("`actions[0]`") && text.contains("`caps.per_hour`"),
            "the message must name both fields: {text}"
        );
    }
}
