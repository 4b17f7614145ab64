//! Switchboard's permission decision, as a pure function:
//! [`decide`](fn@decide)`(request, grants, policies, usage) -> `[`Decision`] — **Allow**, **Queue** (hold as
//! a draft for a person) or **Deny** — carrying the rule that produced it into the audit row.
//!
//! What is here:
//! * [`Request`] (the call, the gateway's pause state, the time and the user's UTC offset) and
//!   its typed [`Facts`]: recipients, booked meeting, channel, amount, template tag;
//! * [`Grant`]: a mirror of the stored grant (agent × connection × tier, optionally narrowed to
//!   tools and given an expiry); no tier implies another;
//! * [`Policy`]: narrow auto-send rules with conditions, caps and an active window, and the
//!   [`Usage`] counts the caller supplies for the caps;
//! * the policy file format ([`parse_toml`], [`parse_json`], [`validate`]) with errors that name
//!   the field, and the [`presets`](fn@presets) the UI offers.
//!
//! The decision order, and why deny overrides, is in the [`decide`](mod@decide) module doc. Two
//! properties hold by construction and are checked by property tests: a call is never allowed
//! while paused or without an unexpired grant of exactly its tier; an outbound call is never
//! allowed except by an enabled policy whose conditions, window and caps all hold, and a
//! destructive one never is.
//!
//! Provider content is data, never instructions: [`Facts`] hold only typed values that code
//! extracted (addresses, ids, amounts, tags), never a subject, body or note, and [`decide`](fn@decide)
//! reads grants and policies without changing them. Nothing an email, chat message or CRM note
//! says can change a grant, a policy or an approval.
//!
//! Must not depend on: anything but `switchboard-core` among Switchboard's crates — no store,
//! no connectors, no I/O, no clock (the caller passes `now`). The api crate maps stored grants,
//! connector actions ([`ActionCatalog`]) and audit counts into these types.
//!
//! How to add a condition: add an `Option` field to [`Conditions`] (and, if it needs a new fact,
//! a typed field to [`Facts`] whose type checks its shape when parsed), match it in
//! `Policy::check` so that a missing fact is a miss, refuse its impossible values in
//! [`validate`], list it in the `file` module doc, and cover match, mismatch and missing fact
//! with unit tests.

pub mod decide;
pub mod facts;
pub mod file;
pub mod policy;
pub mod presets;
pub mod request;

pub use decide::{Decision, NeededGrant, Verdict, decide, rules};
pub use facts::{Channel, Currency, Domain, EmailAddress, FactError, Facts, Money, TemplateTag};
pub use file::{
    ActionCatalog, ActionKind, FieldError, PolicyFileError, parse_json, parse_toml, validate,
};
pub use policy::{
    ActiveWindow, Caps, Conditions, Miss, Policy, PolicyUsage, TimeOfDay, Usage, Weekday,
};
pub use presets::{Preset, presets};
pub use request::{Grant, LocalTime, Now, Request};
