// The Agents screen's logic, kept apart from the components so it is unit-tested: the name rule
// (the same one `switchboard agents add` enforces), the grants matrix, and the MCP
// configuration each client takes.
import type { ConnectionInfo, GrantInfo, Tier } from '../../api';

export const TIERS: readonly Tier[] = ['read', 'write', 'delete'];

export const TIER_WORDS: Record<Tier, string> = {
  read: 'Read',
  write: 'Write',
  delete: 'Delete',
};

/** What each tier lets an agent do, in plain words. */
export const TIER_HELP: Record<Tier, string> = {
  read: 'look things up',
  write: 'create and change things (outbound actions wait for your approval)',
  delete: 'remove things (always waits for your approval)',
};

const NAME_MAX = 64;

/** Why `name` is not a valid agent name, or null when it is (1–64 of A–Z a–z 0–9 . _ -). */
export function agentNameProblem(name: string): string | null {
  if (name === '') return 'Give the agent a name.';
  if (name.length > NAME_MAX) return `Use at most ${NAME_MAX} characters (this is ${name.length}).`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return 'Use only letters, digits, dots, dashes and underscores (no spaces).';
  return null;
}

/** One cell of the grants matrix. */
export type GrantCell = {
  connection: string;
  tier: Tier;
  /** The grant behind a ticked box; null when unticked. */
  grant: GrantInfo | null;
};

export type GrantRow = { connection: ConnectionInfo; cells: GrantCell[] };

/** Rows = live connections (removed ones left out, sorted by label), columns = read / write / delete. */
export function grantMatrix(connections: ConnectionInfo[], grants: GrantInfo[], agent: string): GrantRow[] {
  const mine = grants.filter((g) => g.agent === agent);
  return connections
    .filter((c) => c.status !== 'removed')
    .slice()
    .sort((a, b) => a.label.localeCompare(b.label) || a.id.localeCompare(b.id))
    .map((connection) => ({
      connection,
      cells: TIERS.map((tier) => ({
        connection: connection.id,
        tier,
        grant: mine.find((g) => g.connection === connection.id && g.tier === tier) ?? null,
      })),
    }));
}

/** The limits on a grant in words ("only hubspot_list_contacts; ends 2026-12-01 10:00"), or ''. */
export function grantLimits(grant: GrantInfo, formatTime: (ms: number) => string): string {
  const parts: string[] = [];
  if (grant.actions !== null) parts.push(`only ${grant.actions.join(', ')}`);
  if (grant.expires_at_ms !== null) parts.push(`${grant.expired ? 'ended' : 'ends'} ${formatTime(grant.expires_at_ms)}`);
  return parts.join('; ');
}

// ---------- MCP configuration ----------

export type McpClient = 'claude' | 'cursor' | 'vscode';
export type McpTransport = 'stdio' | 'http';

export const MCP_CLIENTS: readonly { id: McpClient; name: string; file: string }[] = [
  {
    id: 'claude',
    name: 'Claude Desktop',
    file: 'claude_desktop_config.json (Settings → Developer → Edit Config)',
  },
  { id: 'cursor', name: 'Cursor', file: '~/.cursor/mcp.json, or .cursor/mcp.json in a project' },
  { id: 'vscode', name: 'VS Code', file: '.vscode/mcp.json in a project (or "MCP: Open User Configuration")' },
];

/** The environment variable the stdio form reads the token from. */
export const TOKEN_ENV = 'SWITCHBOARD_AGENT_TOKEN';
/** Stands in for the token once it is no longer shown. */
export const TOKEN_PLACEHOLDER = 'PASTE-THE-AGENT-TOKEN-HERE';

export type McpSettings = {
  /** The gateway's address, e.g. http://127.0.0.1:4821 (from the status call). */
  gatewayUrl: string;
  /** The gateway's data folder; passed to `switchboard mcp` so it finds this gateway. */
  dataDir: string;
  /** The agent's name, used as the server's name in the client ("switchboard-sales-bot"). */
  agent: string;
  /** The token while it is shown once; null afterwards (a placeholder is written instead). */
  token: string | null;
};

/** The server's key in the client's config: letters, digits, '-' and '_' only (VS Code's rule). */
export function serverName(agent: string): string {
  const cleaned = agent.replace(/[^A-Za-z0-9_-]/g, '-');
  return cleaned === '' ? 'switchboard' : `switchboard-${cleaned}`;
}

/** `http://127.0.0.1:PORT/mcp`, without a doubled slash. */
export function mcpUrl(gatewayUrl: string): string {
  return `${gatewayUrl.replace(/\/+$/, '')}/mcp`;
}

/** The JSON a client takes, as text ready to paste. */
export function mcpConfig(client: McpClient, transport: McpTransport, s: McpSettings): string {
  const token = s.token ?? TOKEN_PLACEHOLDER;
  const name = serverName(s.agent);
  const args = ['mcp', '--token-env', TOKEN_ENV];
  if (s.dataDir !== '') args.push('--data-dir', s.dataDir);
  const url = mcpUrl(s.gatewayUrl);
  let config: unknown;
  if (transport === 'stdio') {
    const server = { command: 'switchboard', args, env: { [TOKEN_ENV]: token } };
    config = client === 'vscode' ? { servers: { [name]: { type: 'stdio', ...server } } } : { mcpServers: { [name]: server } };
  } else if (client === 'vscode') {
    // VS Code asks for the token once and keeps it in its secret storage.
    const inputId = `${name}-token`;
    config = {
      inputs: [{ type: 'promptString', id: inputId, description: `Switchboard token of agent ${s.agent}`, password: true }],
      servers: { [name]: { type: 'http', url, headers: { Authorization: `Bearer \${input:${inputId}}` } } },
    };
  } else if (client === 'cursor') {
    config = { mcpServers: { [name]: { url, headers: { Authorization: `Bearer ${token}` } } } };
  } else {
    // Claude Desktop's config file starts local programs only; the mcp-remote bridge (Node.js)
    // reaches an HTTP server with a header. The header value goes through an environment
    // variable because some systems mangle spaces inside arguments.
    config = {
      mcpServers: {
        [name]: {
          command: 'npx',
          args: ['-y', 'mcp-remote', url, '--header', 'Authorization:${AUTH_HEADER}'],
          env: { AUTH_HEADER: `Bearer ${token}` },
        },
      },
    };
  }
  return JSON.stringify(config, null, 2);
}

/** One line on what to do with the configuration. */
export function mcpHint(client: McpClient, transport: McpTransport): string {
  if (transport === 'stdio') {
    return 'The app starts `switchboard mcp` itself; the `switchboard` command must be installed on this computer.';
  }
  if (client === 'claude') return 'Needs Node.js (for `npx mcp-remote`); Switchboard must be running.';
  if (client === 'vscode') return 'VS Code asks for the token the first time and keeps it in its secret storage.';
  return 'Switchboard must be running while the agent works.';
}
