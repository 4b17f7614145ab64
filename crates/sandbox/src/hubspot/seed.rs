//! The demo company the simulated portal starts with: 50 contacts across 10 companies, deals in
//! both deal pipelines, three owners (HubSpot users), three sales sequences, and an activity
//! history (calls, emails, meetings, notes, tasks) associated with contacts, companies and deals.
//! Everything is deterministic: the same ids, emails and times on every start.
//!
//! Contact `101 + j` works at company `201 + j % 10`; deal `301 + i` (for the first 15) belongs
//! to company `201 + i % 10` and is associated with contacts `101 + i` and `111 + i`.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::model::{Crm, Obj};

/// Creation time of the seeded companies, deals and definitions.
pub(crate) const SEED_TIME: &str = "2024-03-01T10:00:00.000Z";

/// A HubSpot user who owns records (`GET /crm/v3/owners`).
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    /// Owner id: the value of `hubspot_owner_id`.
    pub id: &'static str,
    /// The user id sequences are listed and enrolled with (`userId`).
    pub user_id: u64,
    pub email: &'static str,
    pub first: &'static str,
    pub last: &'static str,
}

/// The portal's users. The first owns the new-lead sequence.
pub const OWNERS: &[Owner] = &[
    Owner {
        id: "90001",
        user_id: 5_101_001,
        email: "pat.morgan@switchboard-demo.example",
        first: "Pat",
        last: "Morgan",
    },
    Owner {
        id: "90002",
        user_id: 5_101_002,
        email: "robin.chen@switchboard-demo.example",
        first: "Robin",
        last: "Chen",
    },
    Owner {
        id: "90003",
        user_id: 5_101_003,
        email: "jordan.blake@switchboard-demo.example",
        first: "Jordan",
        last: "Blake",
    },
];

/// A deal pipeline and its stages: `(stage id, label, win probability)` in display order.
#[derive(Debug, Clone, Copy)]
pub struct Pipeline {
    pub id: &'static str,
    pub label: &'static str,
    pub stages: &'static [(&'static str, &'static str, &'static str)],
}

/// The second pipeline's id (custom pipelines and stages have numeric ids).
pub const PARTNER_PIPELINE: &str = "6371528";

/// Every deal pipeline: HubSpot's default sales pipeline first.
pub const PIPELINES: &[Pipeline] = &[
    Pipeline {
        id: super::DEAL_PIPELINE,
        label: "Sales Pipeline",
        stages: super::DEAL_STAGES,
    },
    Pipeline {
        id: PARTNER_PIPELINE,
        label: "Partnerships",
        stages: &[
            ("6371529", "Intro call", "0.1"),
            ("6371530", "Proposal sent", "0.5"),
            ("6371531", "Partner signed", "1.0"),
            ("6371532", "Not a fit", "0.0"),
        ],
    },
];

/// A sales sequence (`GET /automation/v4/sequences`).
#[derive(Debug, Clone, Copy)]
pub struct Sequence {
    pub id: &'static str,
    pub name: &'static str,
    /// The owning user's id.
    pub user_id: u64,
    /// `(actionType, delay in ms)` of each step.
    pub steps: &'static [(&'static str, u64)],
}

pub const SEQUENCES: &[Sequence] = &[
    Sequence {
        id: "10001001",
        name: "New lead follow-up",
        user_id: 5_101_001,
        steps: &[
            ("EMAIL", 0),
            ("TASK", 172_800_000),
            ("EMAIL", 432_000_000),
            ("FINISH_ENROLLMENT", 864_000_000),
        ],
    },
    Sequence {
        id: "10001002",
        name: "Re-engage cold leads",
        user_id: 5_101_001,
        steps: &[
            ("EMAIL", 0),
            ("EMAIL", 604_800_000),
            ("FINISH_ENROLLMENT", 1_209_600_000),
        ],
    },
    Sequence {
        id: "10001003",
        name: "Partner onboarding",
        user_id: 5_101_002,
        steps: &[
            ("EMAIL", 0),
            ("TASK", 86_400_000),
            ("FINISH_ENROLLMENT", 604_800_000),
        ],
    },
];

/// Contact 150: a lead who filled in the demo form, with a new deal and a short history.
pub const NEW_LEAD_CONTACT: &str = "150";
/// Contact 150's email.
pub const NEW_LEAD_EMAIL: &str = "elizabeth.feinler@example.com";
/// Contact 150's company (Hypertext Studio).
pub const NEW_LEAD_COMPANY: &str = "210";
/// Contact 150's new deal, in the first stage of the sales pipeline.
pub const NEW_LEAD_DEAL: &str = "316";
/// A contact already enrolled in a sequence ("Re-engage cold leads").
pub const ENROLLED_CONTACT: &str = "140";
/// A contact with more notes than one default page holds (12).
pub const BUSY_CONTACT: &str = "101";
/// Notes logged on [`BUSY_CONTACT`].
pub const BUSY_CONTACT_NOTES: usize = 12;

const FIRST: [&str; 50] = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Tim",
    "Frances",
    "John",
    "Hedy",
    "Donald",
    "Edsger",
    "Shafi",
    "Leslie",
    "Sophie",
    "Guido",
    "Anita",
    "Bjarne",
    "Annie",
    "Niklaus",
    "Joan",
    "Mary",
    "Dorothy",
    "Claude",
    "John",
    "Fran",
    "Jean",
    "Kathleen",
    "Karen",
    "Yukihiro",
    "Larry",
    "Brian",
    "Adele",
    "Alan",
    "Ivan",
    "Douglas",
    "Ward",
    "Whitfield",
    "Martin",
    "Ron",
    "Adi",
    "Leonard",
    "Vint",
    "Bob",
    "Jon",
    "Elizabeth",
];
const LAST: [&str; 50] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Perlman",
    "Berners-Lee",
    "Allen",
    "McCarthy",
    "Lamarr",
    "Knuth",
    "Dijkstra",
    "Goldwasser",
    "Lamport",
    "Wilson",
    "van Rossum",
    "Borg",
    "Stroustrup",
    "Easley",
    "Wirth",
    "Clarke",
    "Jackson",
    "Vaughan",
    "Shannon",
    "Backus",
    "Bilas",
    "Bartik",
    "Booth",
    "Sparck Jones",
    "Matsumoto",
    "Wall",
    "Kernighan",
    "Goldberg",
    "Kay",
    "Sutherland",
    "Engelbart",
    "Cunningham",
    "Diffie",
    "Hellman",
    "Rivest",
    "Shamir",
    "Adleman",
    "Cerf",
    "Kahn",
    "Postel",
    "Feinler",
];
const TITLES: [&str; 7] = [
    "CTO",
    "Head of Engineering",
    "VP Sales",
    "Operations Manager",
    "Founder",
    "Procurement Lead",
    "Product Manager",
];

/// `(name, domain, industry, city)` of companies 201…210.
const COMPANIES: [(&str, &str, &str, &str); super::SEEDED_COMPANIES] = [
    (
        "Analytical Engines Ltd",
        "analytical-engines.example",
        "COMPUTER_SOFTWARE",
        "London",
    ),
    (
        "Compiler Works",
        "compilerworks.example",
        "COMPUTER_SOFTWARE",
        "Arlington",
    ),
    (
        "Bletchley Ciphers",
        "bletchley.example",
        "COMPUTER_NETWORK_SECURITY",
        "Milton Keynes",
    ),
    (
        "Orbital Trajectories",
        "orbital.example",
        "AVIATION_AEROSPACE",
        "Hampton",
    ),
    (
        "Kernel Cooperative",
        "kernel-coop.example",
        "COMPUTER_SOFTWARE",
        "Helsinki",
    ),
    (
        "Apollo Guidance",
        "apollo-guidance.example",
        "AVIATION_AEROSPACE",
        "Cambridge",
    ),
    (
        "Unix Heritage",
        "unix-heritage.example",
        "COMPUTER_SOFTWARE",
        "Murray Hill",
    ),
    (
        "Abstraction Partners",
        "abstraction.example",
        "INFORMATION_TECHNOLOGY_AND_SERVICES",
        "Boston",
    ),
    (
        "Spanning Tree Networks",
        "spanningtree.example",
        "COMPUTER_NETWORKING",
        "Seattle",
    ),
    (
        "Hypertext Studio",
        "hypertext.example",
        "INTERNET",
        "Geneva",
    ),
];

fn contact_email(j: usize) -> String {
    format!(
        "{}.{}@example.com",
        FIRST[j].to_lowercase(),
        LAST[j].to_lowercase().replace([' ', '-'], "")
    )
}

fn record(id: &str, props: Value, created: &str, updated: &str) -> Value {
    json!({ "id": id, "properties": props, "createdAt": created, "updatedAt": updated, "archived": false })
}

/// The seeded contacts' email addresses (benchmarks mail from them).
pub fn contact_emails() -> Vec<String> {
    contacts().iter().filter_map(|c| c["properties"]["email"].as_str().map(str::to_string)).collect()
}

fn contacts() -> Vec<Value> {
    (0..super::SEEDED_CONTACTS)
        .map(|j| {
            let id = (101 + j).to_string();
            // The first 25 keep the dates they always had; the newer 25 arrived in March.
            let (created, updated) = if j < 25 {
                (
                    format!("2024-01-{:02}T09:30:00.000Z", j + 1),
                    format!("2024-02-{:02}T16:45:00.000Z", j + 1),
                )
            } else {
                (
                    format!("2024-03-{:02}T09:30:00.000Z", j - 24),
                    format!("2024-03-{:02}T17:15:00.000Z", j - 24),
                )
            };
            let (stage, status) = match j {
                49 => ("lead", "NEW"),
                _ if j >= 40 => ("lead", ["NEW", "OPEN", "ATTEMPTED_TO_CONTACT"][j % 3]),
                _ if j >= 25 => (
                    "marketingqualifiedlead",
                    ["OPEN", "IN_PROGRESS", "CONNECTED"][j % 3],
                ),
                _ if j < 15 => ("opportunity", "OPEN_DEAL"),
                _ => ("customer", "CONNECTED"),
            };
            let company = COMPANIES[j % super::SEEDED_COMPANIES].0;
            let owner = OWNERS[j % OWNERS.len()].id;
            record(
                &id,
                json!({
                    "company": company,
                    "createdate": created,
                    "email": contact_email(j),
                    "firstname": FIRST[j],
                    "hs_lead_status": status,
                    "hs_object_id": id,
                    "hubspot_owner_id": owner,
                    "jobtitle": TITLES[j % TITLES.len()],
                    "lastmodifieddate": updated,
                    "lastname": LAST[j],
                    "lifecyclestage": stage,
                    "phone": format!("+1 555 01{j:02}"),
                }),
                &created,
                &updated,
            )
        })
        .collect()
}

fn companies() -> Vec<Value> {
    COMPANIES
        .iter()
        .enumerate()
        .map(|(i, (name, domain, industry, city))| {
            let id = (201 + i).to_string();
            record(
                &id,
                json!({
                    "city": city,
                    "createdate": SEED_TIME,
                    "domain": domain,
                    "hs_lastmodifieddate": SEED_TIME,
                    "hs_object_id": id,
                    "hubspot_owner_id": OWNERS[i % OWNERS.len()].id,
                    "industry": industry,
                    "name": name,
                    "numberofemployees": ((i + 1) * 40).to_string(),
                }),
                SEED_TIME,
                SEED_TIME,
            )
        })
        .collect()
}

/// `(pipeline, stage, name, amount, company index, contact index)` of deals 316…
type LaterDeal = (&'static str, &'static str, &'static str, u64, usize, usize);
const LATER_DEALS: [LaterDeal; 5] = [
    (
        "default",
        "appointmentscheduled",
        "Hypertext Studio — 40 seats",
        18_000,
        9,
        49,
    ),
    (
        "default",
        "qualifiedtobuy",
        "Kernel Cooperative — expansion",
        9_500,
        4,
        44,
    ),
    (
        "default",
        "presentationscheduled",
        "Apollo Guidance — pilot",
        6_000,
        5,
        35,
    ),
    (
        PARTNER_PIPELINE,
        "6371529",
        "Spanning Tree Networks — reseller",
        0,
        8,
        38,
    ),
    (
        PARTNER_PIPELINE,
        "6371530",
        "Abstraction Partners — referral",
        0,
        7,
        27,
    ),
];

fn deals() -> Vec<Value> {
    let mut out: Vec<Value> = (0..15)
        .map(|i| {
            let id = (301 + i).to_string();
            let company = COMPANIES[i % super::SEEDED_COMPANIES].0;
            let stage = super::DEAL_STAGES[i % super::DEAL_STAGES.len()].0;
            let close = format!("2024-{:02}-15T12:00:00.000Z", 4 + i % 9);
            record(
                &id,
                json!({
                    "amount": ((i + 1) * 2500).to_string(),
                    "closedate": close,
                    "createdate": SEED_TIME,
                    "dealname": format!("{company} — renewal {}", i + 1),
                    "dealstage": stage,
                    "dealtype": "existingbusiness",
                    "hs_lastmodifieddate": SEED_TIME,
                    "hs_object_id": id,
                    "hubspot_owner_id": OWNERS[i % OWNERS.len()].id,
                    "pipeline": super::DEAL_PIPELINE,
                }),
                SEED_TIME,
                SEED_TIME,
            )
        })
        .collect();
    for (k, (pipeline, stage, name, amount, company, _)) in LATER_DEALS.iter().enumerate() {
        let id = (316 + k).to_string();
        let created = format!("2024-04-0{}T08:15:00.000Z", k + 1);
        out.push(record(
            &id,
            json!({
                "amount": amount.to_string(),
                "closedate": "2024-06-28T12:00:00.000Z",
                "createdate": created,
                "dealname": name,
                "dealstage": stage,
                "dealtype": "newbusiness",
                "hs_lastmodifieddate": created,
                "hs_object_id": id,
                "hubspot_owner_id": OWNERS[company % OWNERS.len()].id,
                "pipeline": pipeline,
            }),
            &created,
            &created,
        ));
    }
    out
}

/// One seeded activity: `(type, contact index, day in March 2024, properties)`.
fn activity(
    obj: Obj,
    n: usize,
    j: usize,
    day: usize,
    hour: usize,
    mut props: Value,
) -> (Obj, usize, Value) {
    let base = match obj {
        Obj::Calls => 42_000_000,
        Obj::Emails => 43_000_000,
        Obj::Meetings => 44_000_000,
        Obj::Notes => 41_000_000,
        _ => 45_000_000,
    };
    let id = (base + n).to_string();
    let at = format!("2024-03-{day:02}T{hour:02}:00:00.000Z");
    if let Some(p) = props.as_object_mut() {
        p.insert("hs_timestamp".into(), Value::String(at.clone()));
        p.insert("hs_createdate".into(), Value::String(at.clone()));
        p.insert("hs_lastmodifieddate".into(), Value::String(at.clone()));
        p.insert("hs_object_id".into(), Value::String(id.clone()));
        p.insert(
            "hubspot_owner_id".into(),
            Value::String(OWNERS[j % OWNERS.len()].id.into()),
        );
    }
    (obj, j, record(&id, props, &at, &at))
}

fn activities() -> Vec<(Obj, usize, Value)> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // A steady history across the book: a note on every other contact, a call on every third,
    // an email on every fourth, a meeting on every fifth, an open task on every sixth.
    for j in 0..super::SEEDED_CONTACTS - 1 {
        let name = format!("{} {}", FIRST[j], LAST[j]);
        let day = 1 + j % 28;
        if j % 2 == 0 {
            out.push(activity(
                Obj::Notes,
                next(),
                j,
                day,
                9,
                json!({ "hs_note_body": format!("Spoke with {name} about their rollout plans.") }),
            ));
        }
        if j % 3 == 0 {
            out.push(activity(
                Obj::Calls,
                next(),
                j,
                day,
                11,
                json!({
                    "hs_call_title": format!("Check-in with {name}"),
                    "hs_call_body": "Reviewed usage; asked for a follow-up next month.",
                    "hs_call_direction": "OUTBOUND",
                    "hs_call_status": "COMPLETED",
                    "hs_call_duration": "540000",
                }),
            ));
        }
        if j % 4 == 0 {
            out.push(activity(
                Obj::Emails,
                next(),
                j,
                day,
                13,
                json!({
                    "hs_email_subject": "Your quarterly review",
                    "hs_email_text": format!("Hi {},\n\nAttached is the summary of this quarter.", FIRST[j]),
                    "hs_email_direction": "EMAIL",
                    "hs_email_status": "SENT",
                }),
            ));
        }
        if j % 5 == 0 {
            out.push(activity(
                Obj::Meetings,
                next(),
                j,
                day,
                15,
                json!({
                    "hs_meeting_title": format!("Roadmap session with {name}"),
                    "hs_meeting_body": "Walk through the next release.",
                    "hs_meeting_start_time": format!("2024-03-{day:02}T15:00:00.000Z"),
                    "hs_meeting_end_time": format!("2024-03-{day:02}T15:30:00.000Z"),
                    "hs_meeting_outcome": "COMPLETED",
                }),
            ));
        }
        if j % 6 == 0 {
            out.push(activity(
                Obj::Tasks,
                next(),
                j,
                day,
                17,
                json!({
                    "hs_task_subject": format!("Send {} the renewal quote", FIRST[j]),
                    "hs_task_body": "Use the 2024 price list.",
                    "hs_task_status": "NOT_STARTED",
                    "hs_task_priority": "MEDIUM",
                    "hs_task_type": "TODO",
                }),
            ));
        }
    }
    // Ada (101) has a long history: more notes than one default page.
    for k in 1..BUSY_CONTACT_NOTES {
        out.push(activity(
            Obj::Notes,
            next(),
            0,
            1 + k,
            10,
            json!({ "hs_note_body": format!("Account review #{k} with Ada.") }),
        ));
    }
    // The new lead (150): the demo request arrived by email, and marketing left a note.
    out.push(activity(
        Obj::Emails,
        next(),
        49,
        30,
        8,
        json!({
            "hs_email_subject": "Demo request: 40 seats for Hypertext Studio",
            "hs_email_text": "Hello, we would like a demo for our team of 40 next week. — Elizabeth",
            "hs_email_direction": "INCOMING_EMAIL",
            "hs_email_status": "SENT",
        }),
    ));
    out.push(activity(
        Obj::Notes,
        next(),
        49,
        30,
        9,
        json!({ "hs_note_body": "Came in through the pricing page form; budget approved for Q2." }),
    ));
    out
}

/// The portal as it starts.
pub(crate) fn crm() -> Crm {
    let mut crm = Crm {
        records: HashMap::new(),
        assocs: Vec::new(),
        enrollments: Vec::new(),
    };
    crm.records.insert(Obj::Contacts, contacts());
    crm.records.insert(Obj::Companies, companies());
    crm.records.insert(Obj::Deals, deals());
    let n = super::SEEDED_CONTACTS as u64;
    for j in 0..n {
        crm.associate(Obj::Contacts, 101 + j, Obj::Companies, 201 + j % 10, true);
    }
    for i in 0..15u64 {
        let company = 201 + i % 10;
        crm.associate(Obj::Deals, 301 + i, Obj::Companies, company, true);
        crm.associate(Obj::Deals, 301 + i, Obj::Contacts, 101 + i, false);
        crm.associate(Obj::Deals, 301 + i, Obj::Contacts, 111 + i, false);
    }
    for (k, (_, _, _, _, company, contact)) in LATER_DEALS.iter().enumerate() {
        let deal = 316 + k as u64;
        crm.associate(
            Obj::Deals,
            deal,
            Obj::Companies,
            201 + *company as u64,
            true,
        );
        crm.associate(
            Obj::Deals,
            deal,
            Obj::Contacts,
            101 + *contact as u64,
            false,
        );
    }
    for (obj, j, rec) in activities() {
        let id: u64 = rec["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let contact = 101 + j as u64;
        crm.associate(obj, id, Obj::Contacts, contact, false);
        crm.associate(obj, id, Obj::Companies, 201 + (j % 10) as u64, false);
        for deal in crm.associated(Obj::Contacts, contact, Obj::Deals) {
            crm.associate(obj, id, Obj::Deals, deal, false);
        }
        // The contact's "Last Activity Date" is its newest activity.
        let at = rec["properties"]["hs_timestamp"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(c) = crm.get_mut(Obj::Contacts, &contact.to_string())
            && let Some(p) = c["properties"].as_object_mut()
            && p.get("notes_last_updated")
                .and_then(Value::as_str)
                .is_none_or(|prev| prev < at.as_str())
        {
            p.insert("notes_last_updated".into(), Value::String(at));
        }
        crm.list_mut(obj).push(rec);
    }
    // Contact 140 is already working through the re-engagement sequence.
    let owner = OWNERS[0];
    let enrolled_at = "2024-03-20T09:00:00.000Z";
    crm.enrollments.push(json!({
        "id": "77000001",
        "toEmail": contact_email(39),
        "enrolledAt": enrolled_at,
        "updatedAt": enrolled_at,
        "sequenceId": SEQUENCES[1].id,
        "sequenceName": SEQUENCES[1].name,
        "enrolledBy": owner.user_id.to_string(),
        "enrolledByEmail": owner.email,
        "contactId": ENROLLED_CONTACT,
    }));
    if let Some(c) = crm.get_mut(Obj::Contacts, ENROLLED_CONTACT)
        && let Some(p) = c["properties"].as_object_mut()
    {
        p.insert(
            "hs_sequences_is_enrolled".into(),
            Value::String("true".into()),
        );
    }
    crm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_company_is_consistent() {
        let crm = crm();
        assert_eq!(crm.list(Obj::Contacts).len(), super::super::SEEDED_CONTACTS);
        assert_eq!(crm.list(Obj::Deals).len(), super::super::SEEDED_DEALS);
        let mut emails: Vec<String> = crm
            .list(Obj::Contacts)
            .iter()
            .filter_map(|c| c["properties"]["email"].as_str().map(str::to_string))
            .collect();
        emails.sort();
        emails.dedup();
        assert_eq!(
            emails.len(),
            super::super::SEEDED_CONTACTS,
            "every seeded email is unique"
        );
        assert_eq!(
            crm.get(Obj::Contacts, NEW_LEAD_CONTACT)
                .map(|c| c["properties"]["email"].clone()),
            Some(json!(NEW_LEAD_EMAIL))
        );
        assert_eq!(crm.associated(Obj::Contacts, 150, Obj::Deals), vec![316]);
        assert_eq!(
            crm.associated(Obj::Contacts, 150, Obj::Companies),
            vec![210]
        );
        assert_eq!(
            crm.associated(Obj::Contacts, 101, Obj::Notes).len(),
            BUSY_CONTACT_NOTES
        );
        for deal in crm.list(Obj::Deals) {
            let id: u64 = deal["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("numeric id");
            let companies = crm.associated(Obj::Deals, id, Obj::Companies);
            assert_eq!(companies.len(), 1, "deal {id} has one company");
            for c in crm.associated(Obj::Deals, id, Obj::Contacts) {
                assert_eq!(
                    crm.associated(Obj::Contacts, c, Obj::Companies),
                    companies,
                    "deal {id}'s contact {c} works at its company"
                );
            }
        }
    }
}
