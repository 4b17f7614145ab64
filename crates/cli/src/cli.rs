//! Argument grammar (clap). Usage errors exit 2.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about = "Switchboard: the gateway between AI agents and your business tools")]
pub struct Cli {
    /// Data directory (default: the OS's app-data dir).
    #[arg(long, global = true, env = "SWITCHBOARD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway headless (HTTP on 127.0.0.1) until SIGTERM/SIGINT.
    Serve(ServeArgs),
    /// Whether a gateway runs for this data dir, its URL and version.
    Status,
    /// Print a fresh one-time login URL for the running gateway's UI.
    LoginUrl,
    /// The provider catalog: providers by category, auth modes, rate limits, scopes (--json: all of it).
    Providers,
    /// Agent identities: list, add (prints the token once), revoke.
    #[command(subcommand)]
    Agents(AgentsCommand),
    /// Connected accounts: list, add (OAuth in the browser, or an API key from stdin), test, remove.
    #[command(subcommand)]
    Connections(ConnectionsCommand),
    /// Least-privilege grants: which agent may read, write or delete through which connection.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Provider events (webhooks and pulls): list them, pull now, switch the periodic pull.
    #[command(subcommand)]
    Events(EventsCommand),
    /// The approval queue: outbound and destructive actions agents drafted, waiting for a person.
    #[command(subcommand)]
    Approvals(ApprovalsCommand),
    /// Auto-send policies: the narrow rules under which an outbound action goes without approval.
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// Agents' requests for more access: list, grant, dismiss.
    #[command(subcommand)]
    Requests(RequestsCommand),
    /// The rollout planner: each common workflow, what it needs and how far it is (connected,
    /// scopes held, granted to an agent, tried); with WORKFLOW, that one in full.
    Plan { workflow: Option<String> },
    /// Pause every agent at once (their requests get `paused` until `switchboard resume`).
    Pause,
    /// Let every agent go again after `switchboard pause`.
    Resume,
    /// Verify, export or search the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// stdio MCP bridge to the running gateway's /mcp, for agents that launch servers as commands.
    Mcp(McpArgs),
    /// Scripted demos against the simulated providers (starts `serve --sandbox` if none runs).
    #[command(subcommand)]
    Demo(DemoCommand),
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// A scripted agent over /mcp: read the newest HubSpot lead, find free slots in Google
    /// Calendar, email two times through Gmail, move the deal stage, post a summary to Slack;
    /// each outbound step waits for a person's approval. Ends with the audit chain.
    LeadFollowUp {
        /// Approve each queued step through the control API (a separate step, for unattended runs).
        #[arg(long)]
        auto_approve: bool,
    },
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Name of the environment variable holding the agent token (never pass the token itself).
    #[arg(long, value_name = "VAR")]
    pub token_env: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Also start the simulated providers.
    #[arg(long)]
    pub sandbox: bool,
    /// Folder of the built web UI (default: ui/ beside the binary, or the repository's ui/dist).
    #[arg(long, env = "SWITCHBOARD_UI_DIR", value_name = "DIR")]
    pub ui_dir: Option<PathBuf>,
    /// Test only: also serve the MCP conformance suite's fixture tools, resources and prompts at
    /// /mcp-conformance (no token; nothing behind them touches a provider).
    #[arg(long, hide = true)]
    pub mcp_conformance: bool,
}

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// Every agent: name, created, last seen, revoked.
    List,
    /// Add an agent and print its token, once.
    Add {
        /// 1-64 characters of letters, digits, '.', '_' or '-'.
        name: String,
    },
    /// Revoke an agent: its token stops working at once.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Every connection: id, provider, status, key age, last success / error.
    List,
    /// Connect PROVIDER: with OAuth in the system browser (`--oauth`), or with an API key /
    /// private-app token read from stdin (`--api-key-stdin`, checked before it is saved). Either
    /// way the credential is kept only in the OS keychain.
    Add {
        /// Catalog id, e.g. `hubspot` or `hubspot-sandbox` (`switchboard providers` lists them).
        provider: String,
        /// Sign in with OAuth: the gateway opens the provider's consent page in the system
        /// browser and waits for it to come back to a loopback address on this machine.
        #[arg(long, conflicts_with = "api_key_stdin")]
        oauth: bool,
        /// With --oauth: print the consent URL instead of opening a browser, then wait.
        #[arg(long, requires = "oauth")]
        no_browser: bool,
        /// Read the key from stdin (trimmed).
        #[arg(long)]
        api_key_stdin: bool,
        /// A name for this account (default: the provider's name).
        #[arg(long)]
        label: Option<String>,
        /// A scope to ask for (OAuth) or that the key was given (repeat for each); default: the
        /// provider's recommended read-only set. Calls needing any other scope are refused.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// Check the connection's key with a cheap read call and record the result.
    Test { id: String },
    /// Disconnect: revoke an OAuth grant at the provider, delete the credential from the
    /// keychain and mark the connection removed.
    Remove { id: String },
    /// Set which provider scopes a pasted key holds (the scope checklist); calls needing any
    /// other scope are refused.
    Scopes {
        id: String,
        /// A scope the key holds (repeat for each; none at all = the key may do nothing).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// Keep the connection's webhook signing secret (Stripe's endpoint secret, Slack's signing
    /// secret, HubSpot's client secret), read from stdin, in the OS keychain; the provider then
    /// delivers to the printed /hooks URL.
    WebhookSecret {
        id: String,
        /// Read the secret from stdin (trimmed).
        #[arg(long, required = true)]
        stdin: bool,
    },
    /// Set the key's rotation schedule: a reminder (desktop notification, audit row) when the
    /// key is older than this.
    Rotation {
        id: String,
        /// Remind every N days (1-3650).
        #[arg(long, value_name = "N", conflicts_with = "none", required_unless_present = "none")]
        every_days: Option<i64>,
        /// No schedule.
        #[arg(long)]
        none: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TierArg {
    Read,
    Write,
    Delete,
}

impl TierArg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// Every grant, or one agent's.
    List { agent: Option<String> },
    /// Let AGENT use CONNECTION at one tier. No tier implies another: read is the usual first.
    Set {
        agent: String,
        connection: String,
        tier: TierArg,
        /// Narrow the grant to this tool (repeat for each), e.g. hubspot_list_contacts.
        #[arg(long = "action", value_name = "TOOL")]
        actions: Vec<String>,
        /// The grant stops allowing anything after this many hours.
        #[arg(long, value_name = "HOURS")]
        expires_in_hours: Option<u32>,
    },
    /// Take one tier away again; applies to the agent's very next call.
    Revoke { agent: String, connection: String, tier: TierArg },
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// Drafts, newest first (default: the ones waiting for a person).
    List {
        /// pending, approved, rejected, expired, executed, failed, needs_confirmation or all.
        #[arg(long, default_value = "pending")]
        status: String,
    },
    /// One draft in full: what will be sent, who asked, and where it stands.
    Show { id: String },
    /// Approve a draft; with --edit, FILE holds the whole edited input as JSON (what executes).
    Approve {
        id: String,
        #[arg(long, value_name = "FILE")]
        edit: Option<PathBuf>,
    },
    /// Reject a draft; the agent sees the reason.
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Settle a draft whose outcome was unknown after a crash: --sent if you found it at the
    /// provider, --not-sent to send it now.
    Confirm {
        id: String,
        #[arg(long, conflicts_with = "not_sent", required_unless_present = "not_sent")]
        sent: bool,
        #[arg(long)]
        not_sent: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// Every policy with how often it let something go in the last hour and day.
    List,
    /// Add (or replace, by id) a policy from a TOML or JSON file (`.json` is read as JSON).
    Add { file: PathBuf },
    /// Remove a policy; what it covered waits for approval again.
    Remove { id: String },
    /// The ready-made policies for AGENT (appointment confirmations, invoice delivery, survey requests), as TOML to edit and add.
    Presets { agent: String },
}

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Requests waiting for a person (--all: every request).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Grant what the request asks for.
    Grant { id: String },
    /// Dismiss it; nothing is granted.
    Dismiss { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain: exit 0 when intact, 1 naming the first bad row.
    Verify,
    /// Export every row, oldest first.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Search rows, newest first.
    Search {
        /// Words that must all match (`word*` matches a prefix).
        text: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Stored events, oldest first: every connection's, or one's.
    List {
        #[arg(long)]
        connection: Option<String>,
        /// Only events after this seq (the last one seen).
        #[arg(long, value_name = "SEQ")]
        after: Option<i64>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Pull the connection's new events now, from its cursor.
    Pull { id: String },
    /// Switch the connection's periodic pull on (every N seconds, default 60) or off.
    Schedule {
        id: String,
        /// Pull every N seconds (15-86400).
        #[arg(long, value_name = "N", conflicts_with = "off")]
        every_seconds: Option<i64>,
        /// Switch the periodic pull off.
        #[arg(long)]
        off: bool,
    },
}
