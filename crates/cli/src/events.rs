//! `switchboard events list [--connection ID] [--after SEQ] [--limit N] | pull ID | schedule ID
//! (--every-seconds N | --off)`, through the running gateway's control API.
//!
//! `list` prints stored provider events (from webhooks and pulls alike), oldest first, with the
//! seq to pass as `--after` next time. `pull` reads the connection's new events from its cursor
//! now and says what it stored (and when Gmail made it resync). `schedule` switches the gateway's
//! periodic pull for the connection.

use std::path::Path;

use switchboard_api::events::{EventPage, EventSource};
use switchboard_api::pull::{PullReport, PullSchedule};
use switchboard_core::ApiError;

use crate::cli::EventsCommand;
use crate::client;
use crate::output;

pub async fn run(data_dir: &Path, cmd: EventsCommand, json: bool) -> Result<(), ApiError> {
    match cmd {
        EventsCommand::List {
            connection,
            after,
            limit,
        } => {
            let mut query = vec![format!("limit={limit}")];
            if let Some(c) = &connection {
                query.push(format!("connection={}", client::encode_segment(c)));
            }
            if let Some(a) = after {
                query.push(format!("after={a}"));
            }
            let page: EventPage =
                client::control_get(data_dir, &format!("/events?{}", query.join("&"))).await?;
            if json {
                return output::json(&page);
            }
            output::text(&table(&page))
        }
        EventsCommand::Pull { id } => {
            let report: PullReport = client::control_post(
                data_dir,
                &format!("/connections/{}/events/pull", client::encode_segment(&id)),
            )
            .await?;
            if json {
                return output::json(&report);
            }
            let mut out = format!(
                "Pulled '{}': {} new event{}, {} already stored, {} request{} to {}.\n",
                report.connection,
                report.stored,
                if report.stored == 1 { "" } else { "s" },
                report.duplicates,
                report.requests,
                if report.requests == 1 { "" } else { "s" },
                report.provider
            );
            for s in &report.streams {
                if let Some(note) = &s.note {
                    out.push_str(&format!("  {}: {note}\n", s.stream));
                }
            }
            output::text(&out)
        }
        EventsCommand::Schedule {
            id,
            every_seconds,
            off,
        } => {
            let body = serde_json::json!({ "enabled": !off, "every_seconds": every_seconds });
            let s: PullSchedule = client::control_put_json(
                data_dir,
                &format!(
                    "/connections/{}/events/pull-schedule",
                    client::encode_segment(&id)
                ),
                body,
            )
            .await?;
            if json {
                return output::json(&s);
            }
            match s.every_seconds {
                Some(n) if s.enabled => output::text(&format!(
                    "Connection '{}' is pulled every {n} s while the gateway runs.\n",
                    s.connection
                )),
                _ => output::text(&format!(
                    "Connection '{}' is no longer pulled periodically (`switchboard events pull {}` still works).\n",
                    s.connection, s.connection
                )),
            }
        }
    }
}

fn table(page: &EventPage) -> String {
    if page.events.is_empty() {
        return "No events. Set a webhook secret (`switchboard connections webhook-secret ID --stdin`) or pull (`switchboard events pull ID`).\n".into();
    }
    let rows: Vec<Vec<String>> = page
        .events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                output::time(e.occurred_at_ms),
                e.connection.clone(),
                e.event_type.clone(),
                e.id.clone(),
                match e.source {
                    EventSource::Webhook => "webhook".into(),
                    EventSource::Pull => "pull".into(),
                },
            ]
        })
        .collect();
    let mut out = output::table(
        &["SEQ", "OCCURRED", "CONNECTION", "TYPE", "ID", "SOURCE"],
        &rows,
    );
    if let Some(next) = page.next_after {
        out.push_str(&format!("More: --after {next}\n"));
    }
    out
}
