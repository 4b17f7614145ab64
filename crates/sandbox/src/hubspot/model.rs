//! The simulated portal's CRM: object types, their property definitions (what
//! `GET /crm/v3/properties/{objectType}` lists and what writes are checked against), the records
//! and associations, and HubSpot's rules for reading and writing property values.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::seed::{OWNERS, PIPELINES, SEED_TIME};

/// A CRM object type the simulated portal holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Obj {
    Contacts,
    Companies,
    Deals,
    Calls,
    Emails,
    Meetings,
    Notes,
    Tasks,
}

impl Obj {
    pub(crate) const ALL: [Obj; 8] = [
        Obj::Contacts,
        Obj::Companies,
        Obj::Deals,
        Obj::Calls,
        Obj::Emails,
        Obj::Meetings,
        Obj::Notes,
        Obj::Tasks,
    ];
    pub(crate) const ENGAGEMENTS: [Obj; 5] = [
        Obj::Calls,
        Obj::Emails,
        Obj::Meetings,
        Obj::Notes,
        Obj::Tasks,
    ];

    /// HubSpot accepts the plural name, the singular name and the object type id in paths.
    pub(crate) fn parse(s: &str) -> Option<Obj> {
        Some(match s.to_ascii_lowercase().as_str() {
            "contacts" | "contact" | "0-1" => Obj::Contacts,
            "companies" | "company" | "0-2" => Obj::Companies,
            "deals" | "deal" | "0-3" => Obj::Deals,
            "calls" | "call" | "0-48" => Obj::Calls,
            "emails" | "email" | "0-49" => Obj::Emails,
            "meetings" | "meeting" | "0-47" => Obj::Meetings,
            "notes" | "note" | "0-46" => Obj::Notes,
            "tasks" | "task" | "0-27" => Obj::Tasks,
            _ => return None,
        })
    }

    pub(crate) fn plural(self) -> &'static str {
        match self {
            Obj::Contacts => "contacts",
            Obj::Companies => "companies",
            Obj::Deals => "deals",
            Obj::Calls => "calls",
            Obj::Emails => "emails",
            Obj::Meetings => "meetings",
            Obj::Notes => "notes",
            Obj::Tasks => "tasks",
        }
    }

    /// The name in search's association pseudo-properties (`associations.contact`).
    pub(crate) fn singular(self) -> &'static str {
        match self {
            Obj::Contacts => "contact",
            Obj::Companies => "company",
            Obj::Deals => "deal",
            Obj::Calls => "call",
            Obj::Emails => "email",
            Obj::Meetings => "meeting",
            Obj::Notes => "note",
            Obj::Tasks => "task",
        }
    }

    pub(crate) fn is_engagement(self) -> bool {
        Self::ENGAGEMENTS.contains(&self)
    }

    /// The granular scope an OAuth app needs to read this type. Calls, emails, meetings, notes
    /// and tasks are read with the contacts scope, as HubSpot documents for engagements.
    pub(crate) fn read_scope(self) -> &'static str {
        match self {
            Obj::Companies => "crm.objects.companies.read",
            Obj::Deals => "crm.objects.deals.read",
            _ => "crm.objects.contacts.read",
        }
    }

    pub(crate) fn write_scope(self) -> &'static str {
        match self {
            Obj::Companies => "crm.objects.companies.write",
            Obj::Deals => "crm.objects.deals.write",
            _ => "crm.objects.contacts.write",
        }
    }

    /// The read-only property holding the creation time.
    pub(crate) fn created_prop(self) -> &'static str {
        if self.is_engagement() {
            "hs_createdate"
        } else {
            "createdate"
        }
    }

    /// The read-only property every write bumps (contacts call it `lastmodifieddate`).
    pub(crate) fn modified_prop(self) -> &'static str {
        if self == Obj::Contacts {
            "lastmodifieddate"
        } else {
            "hs_lastmodifieddate"
        }
    }

    /// Properties returned when a read names none (HubSpot's documented defaults).
    pub(crate) fn default_properties(self) -> &'static [&'static str] {
        match self {
            Obj::Contacts => &[
                "createdate",
                "email",
                "firstname",
                "hs_object_id",
                "lastmodifieddate",
                "lastname",
            ],
            Obj::Companies => &[
                "createdate",
                "domain",
                "hs_lastmodifieddate",
                "hs_object_id",
                "name",
            ],
            Obj::Deals => &[
                "amount",
                "closedate",
                "createdate",
                "dealname",
                "dealstage",
                "hs_lastmodifieddate",
                "hs_object_id",
                "pipeline",
            ],
            _ => &["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
        }
    }

    /// Properties a search `query` looks in.
    pub(crate) fn searchable(self) -> &'static [&'static str] {
        match self {
            Obj::Contacts => &[
                "firstname",
                "lastname",
                "email",
                "phone",
                "mobilephone",
                "company",
            ],
            Obj::Companies => &["name", "domain", "website", "phone"],
            Obj::Deals => &[
                "dealname",
                "pipeline",
                "dealstage",
                "description",
                "dealtype",
            ],
            Obj::Calls => &["hs_call_title", "hs_call_body"],
            Obj::Emails => &["hs_email_subject", "hs_email_text"],
            Obj::Meetings => &["hs_meeting_title", "hs_meeting_body"],
            Obj::Notes => &["hs_note_body"],
            Obj::Tasks => &["hs_task_subject", "hs_task_body"],
        }
    }
}

/// HubSpot's default (unlabelled) association type id from `from` to `to`, if the pair can be
/// associated. Engagement → record ids are even and the record → engagement id is one less.
pub(crate) fn default_association_type(from: Obj, to: Obj) -> Option<u32> {
    use Obj::*;
    let engagement_to = |e: Obj, r: Obj| -> Option<u32> {
        let base = match e {
            Calls => [194, 182, 206],
            Emails => [198, 186, 210],
            Meetings => [200, 188, 212],
            Notes => [202, 190, 214],
            Tasks => [204, 192, 216],
            _ => return None,
        };
        match r {
            Contacts => Some(base[0]),
            Companies => Some(base[1]),
            Deals => Some(base[2]),
            _ => None,
        }
    };
    match (from, to) {
        (Contacts, Companies) => Some(279),
        (Companies, Contacts) => Some(280),
        (Contacts, Deals) => Some(4),
        (Deals, Contacts) => Some(3),
        (Companies, Deals) => Some(342),
        (Deals, Companies) => Some(341),
        (e, r) if e.is_engagement() => engagement_to(e, r),
        (r, e) if e.is_engagement() => engagement_to(e, r).map(|id| id - 1),
        _ => None,
    }
}

/// The "Primary" labelled association type ids (contact→company 1, company→contact 2,
/// deal→company 5, company→deal 6).
pub(crate) fn primary_association_type(from: Obj, to: Obj) -> Option<u32> {
    match (from, to) {
        (Obj::Contacts, Obj::Companies) => Some(1),
        (Obj::Companies, Obj::Contacts) => Some(2),
        (Obj::Deals, Obj::Companies) => Some(5),
        (Obj::Companies, Obj::Deals) => Some(6),
        _ => None,
    }
}

/// One direction of an association between two records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assoc {
    pub from: Obj,
    pub from_id: u64,
    pub to: Obj,
    pub to_id: u64,
    /// `(typeId, label)`, every one `HUBSPOT_DEFINED`.
    pub types: Vec<(u32, Option<&'static str>)>,
}

/// Everything the portal stores. One lock guards it all, so no handler can deadlock.
pub(crate) struct Crm {
    pub records: HashMap<Obj, Vec<Value>>,
    pub assocs: Vec<Assoc>,
    pub enrollments: Vec<Value>,
}

impl Crm {
    pub(crate) fn list(&self, obj: Obj) -> &[Value] {
        self.records.get(&obj).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn list_mut(&mut self, obj: Obj) -> &mut Vec<Value> {
        self.records.entry(obj).or_default()
    }

    pub(crate) fn get(&self, obj: Obj, id: &str) -> Option<&Value> {
        self.list(obj).iter().find(|r| r["id"] == id)
    }

    pub(crate) fn get_mut(&mut self, obj: Obj, id: &str) -> Option<&mut Value> {
        self.list_mut(obj).iter_mut().find(|r| r["id"] == id)
    }

    /// Links two records both ways with the default type (and the primary label when asked).
    pub(crate) fn associate(&mut self, a: Obj, a_id: u64, b: Obj, b_id: u64, primary: bool) {
        for (from, from_id, to, to_id) in [(a, a_id, b, b_id), (b, b_id, a, a_id)] {
            let Some(default) = default_association_type(from, to) else {
                continue;
            };
            let mut types = Vec::new();
            if primary && let Some(p) = primary_association_type(from, to) {
                types.push((p, Some("Primary")));
            }
            types.push((default, None));
            match self
                .assocs
                .iter_mut()
                .find(|x| x.from == from && x.from_id == from_id && x.to == to && x.to_id == to_id)
            {
                Some(existing) => {
                    for t in types {
                        if !existing.types.contains(&t) {
                            existing.types.push(t);
                        }
                    }
                }
                None => self.assocs.push(Assoc {
                    from,
                    from_id,
                    to,
                    to_id,
                    types,
                }),
            }
        }
    }

    /// Ids of `to` records associated with record `from_id` of type `from`.
    pub(crate) fn associated(&self, from: Obj, from_id: u64, to: Obj) -> Vec<u64> {
        self.assocs
            .iter()
            .filter(|a| a.from == from && a.from_id == from_id && a.to == to)
            .map(|a| a.to_id)
            .collect()
    }

    /// Removes every association of a record (when it is archived).
    pub(crate) fn forget(&mut self, obj: Obj, id: u64) {
        self.assocs
            .retain(|a| !((a.from == obj && a.from_id == id) || (a.to == obj && a.to_id == id)));
    }

    /// Sets `props` and bumps the modification time of a record; `false` when it does not exist.
    pub(crate) fn touch(&mut self, obj: Obj, id: &str, props: &[(&str, String)]) -> bool {
        let now = now_iso();
        let Some(r) = self.get_mut(obj, id) else {
            return false;
        };
        if let Some(p) = r["properties"].as_object_mut() {
            for (k, v) in props {
                p.insert((*k).to_string(), Value::String(v.clone()));
            }
            p.insert(obj.modified_prop().into(), Value::String(now.clone()));
        }
        r["updatedAt"] = Value::String(now);
        true
    }
}

// ---- property definitions

/// A property's data type (HubSpot `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    Date,
    DateTime,
    Enumeration,
    Bool,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Enumeration => "enumeration",
            Kind::Bool => "bool",
        }
    }
}

/// Where an enumeration's options come from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Options {
    None,
    Fixed(&'static [(&'static str, &'static str)]),
    /// The portal's owners (`hubspot_owner_id`).
    Owners,
    /// Every stage of every deal pipeline (`dealstage`).
    DealStages,
    /// The deal pipelines (`pipeline`).
    Pipelines,
    /// `true` / `false` (`bool` properties).
    YesNo,
}

/// One property definition.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PropDef {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub field_type: &'static str,
    pub group: &'static str,
    /// `modificationMetadata.readOnlyValue`: set by HubSpot, refused on writes.
    pub read_only: bool,
    /// `false` for the portal's own custom properties.
    pub hubspot_defined: bool,
    pub options: Options,
}

const fn p(
    name: &'static str,
    label: &'static str,
    kind: Kind,
    field_type: &'static str,
    group: &'static str,
) -> PropDef {
    PropDef {
        name,
        label,
        kind,
        field_type,
        group,
        read_only: false,
        hubspot_defined: true,
        options: Options::None,
    }
}
const fn text(name: &'static str, label: &'static str, group: &'static str) -> PropDef {
    p(name, label, Kind::String, "text", group)
}
const fn enumeration(
    name: &'static str,
    label: &'static str,
    group: &'static str,
    options: Options,
) -> PropDef {
    PropDef {
        options,
        ..p(name, label, Kind::Enumeration, "select", group)
    }
}
const fn read_only(def: PropDef) -> PropDef {
    PropDef {
        read_only: true,
        ..def
    }
}
const fn custom(def: PropDef) -> PropDef {
    PropDef {
        hubspot_defined: false,
        ..def
    }
}

const LIFECYCLE: &[(&str, &str)] = &[
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
];
const LEAD_STATUS: &[(&str, &str)] = &[
    ("NEW", "New"),
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In Progress"),
    ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"),
    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"),
    ("BAD_TIMING", "Bad Timing"),
];
const EMPLOYEES: &[(&str, &str)] = &[
    ("1-5", "1-5"),
    ("5-25", "5-25"),
    ("25-50", "25-50"),
    ("50-100", "50-100"),
    ("100-500", "100-500"),
    ("500-1000", "500-1000"),
    ("1000+", "1000+"),
];
const INDUSTRY: &[(&str, &str)] = &[
    ("AVIATION_AEROSPACE", "Aviation & Aerospace"),
    ("COMPUTER_NETWORK_SECURITY", "Computer & Network Security"),
    ("COMPUTER_NETWORKING", "Computer Networking"),
    ("COMPUTER_SOFTWARE", "Computer Software"),
    (
        "INFORMATION_TECHNOLOGY_AND_SERVICES",
        "Information Technology and Services",
    ),
    ("INTERNET", "Internet"),
];
const DEAL_TYPE: &[(&str, &str)] = &[
    ("newbusiness", "New Business"),
    ("existingbusiness", "Existing Business"),
];
const CALL_DIRECTION: &[(&str, &str)] = &[("INBOUND", "Inbound"), ("OUTBOUND", "Outbound")];
const CALL_STATUS: &[(&str, &str)] = &[
    ("BUSY", "Busy"),
    ("CALLING_CRM_USER", "Calling CRM user"),
    ("CANCELED", "Canceled"),
    ("COMPLETED", "Completed"),
    ("CONNECTING", "Connecting"),
    ("FAILED", "Failed"),
    ("IN_PROGRESS", "In progress"),
    ("NO_ANSWER", "No answer"),
    ("QUEUED", "Queued"),
    ("RINGING", "Ringing"),
];
const EMAIL_DIRECTION: &[(&str, &str)] = &[
    ("EMAIL", "Email sent from CRM"),
    ("INCOMING_EMAIL", "Reply to logged email"),
    ("FORWARDED_EMAIL", "Email forwarded to CRM"),
];
const EMAIL_STATUS: &[(&str, &str)] = &[
    ("BOUNCED", "Bounced"),
    ("FAILED", "Failed"),
    ("SCHEDULED", "Scheduled"),
    ("SENDING", "Sending"),
    ("SENT", "Sent"),
];
const MEETING_OUTCOME: &[(&str, &str)] = &[
    ("SCHEDULED", "Scheduled"),
    ("COMPLETED", "Completed"),
    ("RESCHEDULED", "Rescheduled"),
    ("NO_SHOW", "No show"),
    ("CANCELED", "Canceled"),
];
const TASK_STATUS: &[(&str, &str)] = &[
    ("NOT_STARTED", "Not started"),
    ("IN_PROGRESS", "In progress"),
    ("WAITING", "Waiting"),
    ("COMPLETED", "Completed"),
    ("DEFERRED", "Deferred"),
];
const TASK_PRIORITY: &[(&str, &str)] = &[
    ("NONE", "None"),
    ("LOW", "Low"),
    ("MEDIUM", "Medium"),
    ("HIGH", "High"),
];
const TASK_TYPE: &[(&str, &str)] = &[
    ("CALL", "Call"),
    ("EMAIL", "Email"),
    ("LINKED_IN_CONNECT", "LinkedIn connect"),
    ("LINKED_IN_MESSAGE", "LinkedIn message"),
    ("MEETING", "Meeting"),
    ("TODO", "To-do"),
];

const CONTACT_PROPS: &[PropDef] = &[
    PropDef {
        field_type: "text",
        ..text("email", "Email", "contactinformation")
    },
    text("firstname", "First Name", "contactinformation"),
    text("lastname", "Last Name", "contactinformation"),
    p(
        "phone",
        "Phone Number",
        Kind::String,
        "phonenumber",
        "contactinformation",
    ),
    p(
        "mobilephone",
        "Mobile Phone Number",
        Kind::String,
        "phonenumber",
        "contactinformation",
    ),
    text("company", "Company Name", "contactinformation"),
    text("jobtitle", "Job Title", "contactinformation"),
    text("website", "Website URL", "contactinformation"),
    text("city", "City", "contactinformation"),
    text("country", "Country/Region", "contactinformation"),
    PropDef {
        field_type: "radio",
        ..enumeration(
            "lifecyclestage",
            "Lifecycle Stage",
            "contactinformation",
            Options::Fixed(LIFECYCLE),
        )
    },
    PropDef {
        field_type: "radio",
        ..enumeration(
            "hs_lead_status",
            "Lead Status",
            "sales_properties",
            Options::Fixed(LEAD_STATUS),
        )
    },
    enumeration(
        "hubspot_owner_id",
        "Contact owner",
        "sales_properties",
        Options::Owners,
    ),
    enumeration(
        "numemployees",
        "Number of Employees",
        "contactinformation",
        Options::Fixed(EMPLOYEES),
    ),
    custom(p(
        "expected_budget",
        "Expected budget",
        Kind::Number,
        "number",
        "sales_properties",
    )),
    custom(p(
        "follow_up_date",
        "Follow-up date",
        Kind::Date,
        "date",
        "sales_properties",
    )),
    custom(PropDef {
        options: Options::YesNo,
        ..p(
            "newsletter_opt_in",
            "Newsletter opt-in",
            Kind::Bool,
            "booleancheckbox",
            "contactinformation",
        )
    }),
    read_only(p(
        "createdate",
        "Create Date",
        Kind::DateTime,
        "date",
        "contactinformation",
    )),
    read_only(p(
        "lastmodifieddate",
        "Last Modified Date",
        Kind::DateTime,
        "date",
        "contactinformation",
    )),
    read_only(p(
        "hs_object_id",
        "Record ID",
        Kind::Number,
        "number",
        "contactinformation",
    )),
    read_only(p(
        "notes_last_updated",
        "Last Activity Date",
        Kind::DateTime,
        "date",
        "contact_activity",
    )),
    read_only(p(
        "hubspotscore",
        "HubSpot Score",
        Kind::Number,
        "number",
        "contactinformation",
    )),
    read_only(PropDef {
        options: Options::YesNo,
        ..p(
            "hs_sequences_is_enrolled",
            "Currently in Sequence",
            Kind::Bool,
            "booleancheckbox",
            "sales_properties",
        )
    }),
];

const COMPANY_PROPS: &[PropDef] = &[
    text("name", "Company name", "companyinformation"),
    text("domain", "Company Domain Name", "companyinformation"),
    text("website", "Website URL", "companyinformation"),
    text("city", "City", "companyinformation"),
    p(
        "phone",
        "Phone Number",
        Kind::String,
        "phonenumber",
        "companyinformation",
    ),
    enumeration(
        "industry",
        "Industry",
        "companyinformation",
        Options::Fixed(INDUSTRY),
    ),
    p(
        "numberofemployees",
        "Number of Employees",
        Kind::Number,
        "number",
        "companyinformation",
    ),
    p(
        "annualrevenue",
        "Annual Revenue",
        Kind::Number,
        "number",
        "companyinformation",
    ),
    enumeration(
        "hubspot_owner_id",
        "Company owner",
        "companyinformation",
        Options::Owners,
    ),
    PropDef {
        field_type: "radio",
        ..enumeration(
            "lifecyclestage",
            "Lifecycle Stage",
            "companyinformation",
            Options::Fixed(LIFECYCLE),
        )
    },
    read_only(p(
        "createdate",
        "Create Date",
        Kind::DateTime,
        "date",
        "companyinformation",
    )),
    read_only(p(
        "hs_lastmodifieddate",
        "Last Modified Date",
        Kind::DateTime,
        "date",
        "companyinformation",
    )),
    read_only(p(
        "hs_object_id",
        "Record ID",
        Kind::Number,
        "number",
        "companyinformation",
    )),
    read_only(p(
        "notes_last_updated",
        "Last Activity Date",
        Kind::DateTime,
        "date",
        "company_activity",
    )),
];

const DEAL_PROPS: &[PropDef] = &[
    text("dealname", "Deal Name", "dealinformation"),
    p(
        "amount",
        "Amount",
        Kind::Number,
        "number",
        "dealinformation",
    ),
    enumeration(
        "dealstage",
        "Deal Stage",
        "dealinformation",
        Options::DealStages,
    ),
    enumeration(
        "pipeline",
        "Pipeline",
        "dealinformation",
        Options::Pipelines,
    ),
    p(
        "closedate",
        "Close Date",
        Kind::DateTime,
        "date",
        "dealinformation",
    ),
    p(
        "description",
        "Deal Description",
        Kind::String,
        "textarea",
        "dealinformation",
    ),
    enumeration(
        "hubspot_owner_id",
        "Deal owner",
        "dealinformation",
        Options::Owners,
    ),
    enumeration(
        "dealtype",
        "Deal Type",
        "dealinformation",
        Options::Fixed(DEAL_TYPE),
    ),
    read_only(p(
        "createdate",
        "Create Date",
        Kind::DateTime,
        "date",
        "dealinformation",
    )),
    read_only(p(
        "hs_lastmodifieddate",
        "Last Modified Date",
        Kind::DateTime,
        "date",
        "dealinformation",
    )),
    read_only(p(
        "hs_object_id",
        "Record ID",
        Kind::Number,
        "number",
        "dealinformation",
    )),
    read_only(p(
        "notes_last_updated",
        "Last Activity Date",
        Kind::DateTime,
        "date",
        "deal_activity",
    )),
];

const ENGAGEMENT_COMMON: &[PropDef] = &[
    p(
        "hs_timestamp",
        "Activity date",
        Kind::DateTime,
        "date",
        "engagement",
    ),
    enumeration(
        "hubspot_owner_id",
        "Activity assigned to",
        "engagement",
        Options::Owners,
    ),
    read_only(p(
        "hs_createdate",
        "Create date",
        Kind::DateTime,
        "date",
        "engagement",
    )),
    read_only(p(
        "hs_lastmodifieddate",
        "Last modified date",
        Kind::DateTime,
        "date",
        "engagement",
    )),
    read_only(p(
        "hs_object_id",
        "Record ID",
        Kind::Number,
        "number",
        "engagement",
    )),
];

const CALL_PROPS: &[PropDef] = &[
    text("hs_call_title", "Call Title", "call"),
    p("hs_call_body", "Call notes", Kind::String, "html", "call"),
    enumeration(
        "hs_call_direction",
        "Call direction",
        "call",
        Options::Fixed(CALL_DIRECTION),
    ),
    enumeration(
        "hs_call_status",
        "Call status",
        "call",
        Options::Fixed(CALL_STATUS),
    ),
    p(
        "hs_call_duration",
        "Call duration (ms)",
        Kind::Number,
        "number",
        "call",
    ),
    p(
        "hs_call_to_number",
        "To number",
        Kind::String,
        "phonenumber",
        "call",
    ),
    p(
        "hs_call_from_number",
        "From number",
        Kind::String,
        "phonenumber",
        "call",
    ),
];

const EMAIL_PROPS: &[PropDef] = &[
    text("hs_email_subject", "Email subject", "email"),
    p(
        "hs_email_text",
        "Email body",
        Kind::String,
        "textarea",
        "email",
    ),
    p(
        "hs_email_html",
        "Email HTML body",
        Kind::String,
        "html",
        "email",
    ),
    enumeration(
        "hs_email_direction",
        "Email direction",
        "email",
        Options::Fixed(EMAIL_DIRECTION),
    ),
    enumeration(
        "hs_email_status",
        "Email send status",
        "email",
        Options::Fixed(EMAIL_STATUS),
    ),
    p(
        "hs_email_headers",
        "Email headers",
        Kind::String,
        "textarea",
        "email",
    ),
];

const MEETING_PROPS: &[PropDef] = &[
    text("hs_meeting_title", "Meeting name", "meeting"),
    p(
        "hs_meeting_body",
        "Meeting description",
        Kind::String,
        "html",
        "meeting",
    ),
    p(
        "hs_internal_meeting_notes",
        "Internal meeting notes",
        Kind::String,
        "html",
        "meeting",
    ),
    p(
        "hs_meeting_start_time",
        "Start time",
        Kind::DateTime,
        "date",
        "meeting",
    ),
    p(
        "hs_meeting_end_time",
        "End time",
        Kind::DateTime,
        "date",
        "meeting",
    ),
    enumeration(
        "hs_meeting_outcome",
        "Meeting outcome",
        "meeting",
        Options::Fixed(MEETING_OUTCOME),
    ),
    text("hs_meeting_location", "Location", "meeting"),
];

const NOTE_PROPS: &[PropDef] = &[p("hs_note_body", "Note body", Kind::String, "html", "note")];

const TASK_PROPS: &[PropDef] = &[
    text("hs_task_subject", "Task Title", "task"),
    p("hs_task_body", "Notes", Kind::String, "html", "task"),
    enumeration(
        "hs_task_status",
        "Task Status",
        "task",
        Options::Fixed(TASK_STATUS),
    ),
    enumeration(
        "hs_task_priority",
        "Priority",
        "task",
        Options::Fixed(TASK_PRIORITY),
    ),
    enumeration(
        "hs_task_type",
        "Task Type",
        "task",
        Options::Fixed(TASK_TYPE),
    ),
];

/// Every property definition of `obj`.
pub(crate) fn definitions(obj: Obj) -> Vec<PropDef> {
    let own: &[PropDef] = match obj {
        Obj::Contacts => return CONTACT_PROPS.to_vec(),
        Obj::Companies => return COMPANY_PROPS.to_vec(),
        Obj::Deals => return DEAL_PROPS.to_vec(),
        Obj::Calls => CALL_PROPS,
        Obj::Emails => EMAIL_PROPS,
        Obj::Meetings => MEETING_PROPS,
        Obj::Notes => NOTE_PROPS,
        Obj::Tasks => TASK_PROPS,
    };
    own.iter().chain(ENGAGEMENT_COMMON).copied().collect()
}

pub(crate) fn definition(obj: Obj, name: &str) -> Option<PropDef> {
    definitions(obj).into_iter().find(|d| d.name == name)
}

/// The allowed `(value, label)` pairs of an enumeration.
pub(crate) fn options(def: &PropDef) -> Vec<(String, String)> {
    match def.options {
        Options::None => Vec::new(),
        Options::Fixed(list) => list
            .iter()
            .map(|(v, l)| ((*v).to_string(), (*l).to_string()))
            .collect(),
        Options::Owners => OWNERS
            .iter()
            .map(|o| (o.id.to_string(), format!("{} {}", o.first, o.last)))
            .collect(),
        Options::DealStages => PIPELINES
            .iter()
            .flat_map(|p| {
                p.stages
                    .iter()
                    .map(|(id, label, _)| ((*id).to_string(), (*label).to_string()))
            })
            .collect(),
        Options::Pipelines => PIPELINES
            .iter()
            .map(|p| (p.id.to_string(), p.label.to_string()))
            .collect(),
        Options::YesNo => vec![("true".into(), "Yes".into()), ("false".into(), "No".into())],
    }
}

/// A definition as `GET /crm/v3/properties/{objectType}` shows it.
pub(crate) fn definition_json(obj: Obj, def: &PropDef, order: usize) -> Value {
    // Owners are listed by the owners API, not in the definition (HubSpot's `externalOptions`).
    let external = matches!(def.options, Options::Owners);
    let listed = if external { Vec::new() } else { options(def) };
    let options: Vec<Value> = listed
        .into_iter()
        .enumerate()
        .map(|(i, (value, label))| json!({ "label": label, "value": value, "displayOrder": i, "hidden": false }))
        .collect();
    let created_user = !def.hubspot_defined;
    json!({
        "updatedAt": SEED_TIME,
        "createdAt": SEED_TIME,
        "name": def.name,
        "label": def.label,
        "type": def.kind.as_str(),
        "fieldType": def.field_type,
        "description": "",
        "groupName": def.group,
        "options": options,
        "displayOrder": if created_user { -1 } else { i64::try_from(order).unwrap_or(-1) },
        "calculated": def.read_only && def.kind == Kind::Number && def.name == "hubspotscore",
        "externalOptions": external,
        "hasUniqueValue": def.name == "hs_object_id",
        "hidden": false,
        "hubspotDefined": def.hubspot_defined,
        "modificationMetadata": {
            "archivable": !def.hubspot_defined,
            "readOnlyDefinition": def.hubspot_defined,
            "readOnlyValue": def.read_only,
        },
        "formField": obj == Obj::Contacts && !def.read_only,
        "dataSensitivity": "non_sensitive",
    })
}

// ---- property values

/// One rejected property, as HubSpot lists it inside a `VALIDATION_ERROR`.
fn invalid(name: &str, error: &str, message: String) -> Value {
    json!({ "isValid": false, "message": message, "error": error, "name": name })
}

/// A scalar as the text HubSpot stores (every property value is a string).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// Checks `props` against the portal's definitions of `obj`: unknown names, read-only
/// properties, enumeration values outside the options, values of the wrong type. `Ok` holds the
/// values as stored (strings, datetimes as ISO 8601 with milliseconds); `Err` lists every
/// offending property, so a caller sees them all at once.
pub(crate) fn check_values(
    obj: Obj,
    props: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<Value>> {
    let mut ok = Map::new();
    let mut bad = Vec::new();
    for (name, value) in props {
        let Some(def) = definition(obj, name) else {
            bad.push(invalid(
                name,
                "PROPERTY_DOESNT_EXIST",
                format!("Property \"{name}\" does not exist"),
            ));
            continue;
        };
        if def.read_only {
            bad.push(invalid(
                name,
                "READ_ONLY_VALUE",
                format!("\"{name}\" is a read only property; its value cannot be set."),
            ));
            continue;
        }
        let Some(text) = scalar_text(value) else {
            bad.push(invalid(
                name,
                "INVALID_STRING",
                format!("{value} was not a valid string."),
            ));
            continue;
        };
        if text.is_empty() {
            // An empty string clears the property.
            ok.insert(name.clone(), Value::String(text));
            continue;
        }
        let stored = match def.kind {
            Kind::String if name == "email" && !looks_like_email(&text) => {
                bad.push(invalid(
                    name,
                    "INVALID_EMAIL",
                    format!("Email address {text} is invalid"),
                ));
                continue;
            }
            Kind::String => text,
            Kind::Number => match text.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => text.trim().to_string(),
                _ => {
                    bad.push(invalid(
                        name,
                        "INVALID_DECIMAL",
                        format!("{text} was not a valid number."),
                    ));
                    continue;
                }
            },
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                b @ ("true" | "false") => b.to_string(),
                _ => {
                    bad.push(invalid(
                        name,
                        "INVALID_BOOLEAN",
                        format!("{text} was not a valid boolean (true or false)."),
                    ));
                    continue;
                }
            },
            Kind::DateTime => match parse_time_ms(&text) {
                Some(ms) => iso_from_ms(ms),
                None => {
                    bad.push(invalid(
                        name,
                        "INVALID_DATE",
                        format!("{text} was not a valid datetime: use milliseconds since the epoch or ISO 8601 (2024-05-01T09:00:00Z)."),
                    ));
                    continue;
                }
            },
            Kind::Date => match parse_date(&text) {
                Some(d) => d,
                None => {
                    bad.push(invalid(
                        name,
                        "INVALID_DATE",
                        format!("{text} was not a valid date: use YYYY-MM-DD or milliseconds at midnight UTC."),
                    ));
                    continue;
                }
            },
            Kind::Enumeration => {
                let opts = options(&def);
                if !opts.iter().any(|(v, _)| *v == text) {
                    bad.push(invalid(
                        name,
                        "INVALID_OPTION",
                        option_message(&text, &opts),
                    ));
                    continue;
                }
                text
            }
        };
        ok.insert(name.clone(), Value::String(stored));
    }
    if bad.is_empty() { Ok(ok) } else { Err(bad) }
}

/// HubSpot's `INVALID_OPTION` sentence.
pub(crate) fn option_message(value: &str, opts: &[(String, String)]) -> String {
    let listed: Vec<String> = opts
        .iter()
        .map(|(v, l)| format!("label: \"{l}\" value: \"{v}\""))
        .collect();
    format!(
        "{value} was not one of the allowed options: [{}]",
        listed.join(", ")
    )
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
}

/// A record as a read returns it: `requested` properties (unset ones as `null`) plus the
/// identity properties, or the type's defaults when none were named.
pub(crate) fn select(obj: Obj, record: &Value, requested: Option<&[String]>) -> Value {
    let mut out = record.clone();
    let all = record["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut props = Map::new();
    match requested {
        Some(names) => {
            for k in ["hs_object_id", obj.created_prop(), obj.modified_prop()] {
                if let Some(v) = all.get(k) {
                    props.insert(k.to_string(), v.clone());
                }
            }
            for n in names {
                props.insert(n.clone(), all.get(n).cloned().unwrap_or(Value::Null));
            }
        }
        None => {
            for k in obj.default_properties() {
                if let Some(v) = all.get(*k) {
                    props.insert((*k).to_string(), v.clone());
                }
            }
        }
    }
    out["properties"] = Value::Object(props);
    out
}

/// `properties=a,b` from a query string.
pub(crate) fn requested_properties(q: &HashMap<String, String>) -> Option<Vec<String>> {
    q.get("properties").map(|p| {
        p.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

// ---- time

/// Now as HubSpot writes timestamps: ISO 8601, UTC, milliseconds.
pub(crate) fn now_iso() -> String {
    let ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    iso_from_ms(i64::try_from(ms).unwrap_or(i64::MAX))
}

pub(crate) fn iso_from_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Milliseconds since the epoch from either form HubSpot takes: digits, or ISO 8601 / RFC 3339
/// (a bare date means midnight UTC).
pub(crate) fn parse_time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    }
    parse_date(s).and_then(|d| {
        let date = time::Date::parse(
            &d,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        Some(date.midnight().assume_utc().unix_timestamp() * 1000)
    })
}

/// A `date` property value (`YYYY-MM-DD`) from a date or from milliseconds at midnight UTC.
fn parse_date(s: &str) -> Option<String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = s.parse().ok()?;
        if ms % 86_400_000 != 0 {
            return None;
        }
        return Some(iso_from_ms(ms)[..10].to_string());
    }
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn association_types_follow_hubspots_table() {
        assert_eq!(
            default_association_type(Obj::Notes, Obj::Contacts),
            Some(202)
        );
        assert_eq!(
            default_association_type(Obj::Contacts, Obj::Notes),
            Some(201)
        );
        assert_eq!(default_association_type(Obj::Tasks, Obj::Deals), Some(216));
        assert_eq!(
            default_association_type(Obj::Calls, Obj::Companies),
            Some(182)
        );
        assert_eq!(default_association_type(Obj::Deals, Obj::Contacts), Some(3));
        assert_eq!(
            default_association_type(Obj::Notes, Obj::Tasks),
            None,
            "two activities are not associated"
        );
    }

    #[test]
    fn values_are_checked_and_stored_as_hubspot_does() {
        let mut props = Map::new();
        props.insert("email".into(), json!("ada@example.com"));
        props.insert("expected_budget".into(), json!(1200));
        props.insert("follow_up_date".into(), json!("2024-05-01"));
        props.insert("newsletter_opt_in".into(), json!(true));
        let ok = check_values(Obj::Contacts, &props).expect("valid values");
        assert_eq!(ok["expected_budget"], "1200");
        assert_eq!(ok["newsletter_opt_in"], "true");
        let mut bad = Map::new();
        bad.insert("colour".into(), json!("red"));
        bad.insert("createdate".into(), json!("2024-01-01T00:00:00Z"));
        bad.insert("lifecyclestage".into(), json!("friend"));
        bad.insert("expected_budget".into(), json!("lots"));
        let errs = check_values(Obj::Contacts, &bad).expect_err("four bad values");
        let codes: Vec<&str> = errs.iter().filter_map(|e| e["error"].as_str()).collect();
        assert_eq!(
            codes.len(),
            4,
            "every offending property is listed: {errs:?}"
        );
        for c in [
            "PROPERTY_DOESNT_EXIST",
            "READ_ONLY_VALUE",
            "INVALID_OPTION",
            "INVALID_DECIMAL",
        ] {
            assert!(codes.contains(&c), "{c} missing from {codes:?}");
        }
    }

    #[test]
    fn times_parse_from_milliseconds_and_iso() {
        assert_eq!(parse_time_ms("1709287200000"), Some(1_709_287_200_000));
        assert_eq!(
            parse_time_ms("2024-03-01T10:00:00.000Z"),
            Some(1_709_287_200_000)
        );
        assert_eq!(iso_from_ms(1_709_287_200_000), "2024-03-01T10:00:00.000Z");
        assert_eq!(parse_time_ms("2024-03-01"), Some(1_709_251_200_000));
        assert_eq!(parse_time_ms("yesterday"), None);
    }
}
