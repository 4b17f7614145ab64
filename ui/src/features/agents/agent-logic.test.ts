import { describe, expect, it } from 'vitest';
import type { ConnectionInfo, GrantInfo } from '../../api';
import { agentNameProblem, grantLimits, grantMatrix, mcpConfig, mcpUrl, serverName, TOKEN_ENV, TOKEN_PLACEHOLDER } from './agent-logic';

function connection(id: string, label: string, status: ConnectionInfo['status'] = 'healthy'): ConnectionInfo {
  return {
    id,
    provider: id.replace(/-\d+$/, ''),
    label,
    auth_mode: 'private_app_token',
    status,
    created_at_ms: 0,
    key_set_at_ms: 0,
    key_age_days: 0,
    rotate_every_days: null,
    last_success_ms: null,
    last_error: null,
    removed_at_ms: status === 'removed' ? 1 : null,
    granted_scopes: [],
    token_expires_at_ms: null,
    rotation_due: false,
  };
}

function grant(agent: string, conn: string, tier: GrantInfo['tier'], over: Partial<GrantInfo> = {}): GrantInfo {
  return { agent, connection: conn, tier, actions: null, expires_at_ms: null, expired: false, granted_at_ms: 0, granted_by: 'cli', ...over };
}

const settings = { gatewayUrl: 'http://127.0.0.1:4821', dataDir: '/home/ada/.local/share/switchboard', agent: 'sales-bot', token: 'sbt_secret' };

describe('agent names', () => {
  it('accepts what the CLI accepts and says why it refuses the rest', () => {
    expect(agentNameProblem('sales-bot_2.0')).toBeNull();
    expect(agentNameProblem('a'.repeat(64))).toBeNull();
    expect(agentNameProblem('')).toMatch(/name/);
    expect(agentNameProblem('a'.repeat(65))).toMatch(/64/);
    expect(agentNameProblem('sales bot')).toMatch(/no spaces/);
    expect(agentNameProblem('bot/1')).not.toBeNull();
    expect(agentNameProblem('café')).not.toBeNull();
  });
});

describe('grants matrix', () => {
  const conns = [connection('slack-1', 'Team Slack'), connection('hubspot-1', 'CRM'), connection('gmail-1', 'Old mail', 'removed')];
  const grants = [grant('sales-bot', 'hubspot-1', 'read'), grant('sales-bot', 'hubspot-1', 'write', { actions: ['hubspot_create_note'] }), grant('other', 'slack-1', 'read')];

  it('has a row per live connection, sorted by name, and ticks only this agent\'s grants', () => {
    const rows = grantMatrix(conns, grants, 'sales-bot');
    expect(rows.map((r) => r.connection.id)).toEqual(['hubspot-1', 'slack-1']);
    expect(rows[0]!.cells.map((c) => [c.tier, c.grant !== null])).toEqual([
      ['read', true],
      ['write', true],
      ['delete', false],
    ]);
    expect(rows[1]!.cells.every((c) => c.grant === null)).toBe(true);
  });

  it('says how a grant is narrowed and when it ends', () => {
    const time = (ms: number) => `T${ms}`;
    expect(grantLimits(grant('a', 'c', 'read'), time)).toBe('');
    expect(grantLimits(grant('a', 'c', 'write', { actions: ['hubspot_create_note', 'hubspot_log_call'], expires_at_ms: 5 }), time)).toBe(
      'only hubspot_create_note, hubspot_log_call; ends T5',
    );
    expect(grantLimits(grant('a', 'c', 'read', { expires_at_ms: 5, expired: true }), time)).toBe('ended T5');
  });
});

describe('MCP configuration', () => {
  it('Claude Desktop and Cursor start `switchboard mcp` with the token in the environment', () => {
    for (const client of ['claude', 'cursor'] as const) {
      const cfg = JSON.parse(mcpConfig(client, 'stdio', settings));
      const server = cfg.mcpServers['switchboard-sales-bot'];
      expect(server.command).toBe('switchboard');
      expect(server.args).toEqual(['mcp', '--token-env', TOKEN_ENV, '--data-dir', settings.dataDir]);
      expect(server.env).toEqual({ [TOKEN_ENV]: 'sbt_secret' });
    }
  });

  it('VS Code uses "servers" with a type for both forms and prompts for the HTTP token', () => {
    const stdio = JSON.parse(mcpConfig('vscode', 'stdio', settings));
    expect(stdio.servers['switchboard-sales-bot'].type).toBe('stdio');
    expect(stdio.mcpServers).toBeUndefined();
    const http = JSON.parse(mcpConfig('vscode', 'http', settings));
    const server = http.servers['switchboard-sales-bot'];
    expect(server).toEqual({ type: 'http', url: 'http://127.0.0.1:4821/mcp', headers: { Authorization: 'Bearer ${input:switchboard-sales-bot-token}' } });
    expect(http.inputs[0]).toMatchObject({ type: 'promptString', id: 'switchboard-sales-bot-token', password: true });
    expect(JSON.stringify(http)).not.toContain('sbt_secret');
  });

  it('Cursor reaches the HTTP address directly; Claude Desktop through mcp-remote with the header', () => {
    const cursor = JSON.parse(mcpConfig('cursor', 'http', settings)).mcpServers['switchboard-sales-bot'];
    expect(cursor).toEqual({ url: 'http://127.0.0.1:4821/mcp', headers: { Authorization: 'Bearer sbt_secret' } });
    const claude = JSON.parse(mcpConfig('claude', 'http', settings)).mcpServers['switchboard-sales-bot'];
    expect(claude.command).toBe('npx');
    expect(claude.args).toEqual(['-y', 'mcp-remote', 'http://127.0.0.1:4821/mcp', '--header', 'Authorization:${AUTH_HEADER}']);
    expect(claude.env).toEqual({ AUTH_HEADER: 'Bearer sbt_secret' });
  });

  it('writes a placeholder once the token is no longer shown', () => {
    for (const client of ['claude', 'cursor', 'vscode'] as const) {
      for (const transport of ['stdio', 'http'] as const) {
        const text = mcpConfig(client, transport, { ...settings, token: null });
        expect(text).not.toContain('sbt_secret');
        if (!(client === 'vscode' && transport === 'http')) expect(text).toContain(TOKEN_PLACEHOLDER);
      }
    }
  });

  it('names the server safely and joins the URL without a doubled slash', () => {
    expect(serverName('bot.v2')).toBe('switchboard-bot-v2');
    expect(mcpUrl('http://127.0.0.1:9/')).toBe('http://127.0.0.1:9/mcp');
  });
});
