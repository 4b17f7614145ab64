// The Agents screen: add an agent and see its key once, grant read through the matrix and see
// the gateway hold it, grant and dismiss access requests the agent made through the agent API
// (`request_access`), copy its MCP setup, and revoke it.
const AGENT = 'ops-assistant';
const REASON_WRITE = 'I need to log the calls I make after each meeting.';
const REASON_DELETE = 'I would like to clean up old records.';

export default async function agentsChecks(t) {
  const { page, check, waitFor, fail, text, control, controlOk, agentCall, failureText, shot } = t;
  const nav = page.getByRole('navigation', { name: 'Main' });
  const row = page.locator(`[data-testid="agent-row"][data-agent="${AGENT}"]`);
  const cell = (connection, tier) => page.locator(`[data-testid="grant-cell"][data-connection="${connection}"][data-tier="${tier}"]`);
  let token = '';
  let connection = '';

  /** Picks one of the setup's choices by clicking its label, as a person would. */
  const choose = async (testId) => {
    await page.locator('label', { has: page.getByTestId(testId) }).click();
    await waitFor(() => page.getByTestId(testId).isChecked(), async () => `Clicking the "${testId}" choice did not select it`);
  };
  const grantsOf = async () => controlOk(page, 'GET', `/grants?agent=${AGENT}`, undefined, 'Listing the agent\'s grants');
  const holds = async (tier) => (await grantsOf()).some((g) => g.connection === connection && g.tier === tier);

  await check('Agents: a name the gateway would refuse is explained before anything is sent', async () => {
    await nav.getByRole('link', { name: 'Agents', exact: true }).click();
    await waitFor(() => page.getByTestId('agent-add-form').isVisible(), async () => `The Agents screen shows no form to add an agent; ${await failureText()}`);
    await page.getByTestId('agent-name').fill('ops assistant');
    await page.getByTestId('agent-add').click();
    const error = await text(page.getByTestId('agent-name-error'));
    if (!/no spaces/.test(error)) fail(`A name with a space shows "${error}" instead of saying spaces are not allowed`);
    const agents = await controlOk(page, 'GET', '/agents', undefined, 'Listing agents');
    if (agents.some((a) => a.name === 'ops assistant')) fail('An agent with an invalid name was created');
  });

  await check('Agents: adding an agent shows its key once, and it works against the gateway', async () => {
    await page.getByTestId('agent-name').fill(AGENT);
    await page.getByTestId('agent-add').click();
    const shown = page.getByTestId('new-agent-token');
    await waitFor(() => shown.isVisible(), async () => `Adding an agent showed no key; ${await failureText()}`);
    token = await text(shown);
    if (token.length < 20) fail(`The key shown is too short to be a token: "${token}"`);
    const who = await agentCall(token, 'GET', '/whoami');
    if (who.status !== 200 || who.body?.name !== AGENT) fail(`The shown key does not work as ${AGENT}: HTTP ${who.status} ${JSON.stringify(who.body)}`);
    await waitFor(
      async () => (await row.getAttribute('data-state')) === 'active',
      async () => `The new agent is not listed as active; ${await failureText()}`,
    );
    const config = page.getByTestId('mcp-config');
    await choose('mcp-client-cursor');
    await choose('mcp-transport-http');
    const http = JSON.parse(await text(config));
    const server = http.mcpServers?.[`switchboard-${AGENT}`];
    if (server?.url !== `${t.origin}/mcp` || server?.headers?.Authorization !== `Bearer ${token}`) {
      fail(`The Cursor setup over HTTP is not the gateway's /mcp address with the key: ${JSON.stringify(http)}`);
    }
    await choose('mcp-client-claude');
    await choose('mcp-transport-stdio');
    const stdio = JSON.parse(await text(config)).mcpServers?.[`switchboard-${AGENT}`];
    if (stdio?.command !== 'switchboard' || stdio?.args?.slice(0, 3).join(' ') !== 'mcp --token-env SWITCHBOARD_AGENT_TOKEN' || stdio?.env?.SWITCHBOARD_AGENT_TOKEN !== token) {
      fail(`The Claude Desktop setup does not start switchboard mcp with the key in its environment: ${JSON.stringify(stdio)}`);
    }
  });

  await check('Agents: once dismissed, the key is shown nowhere again', async () => {
    await page.getByTestId('dismiss-token').click();
    await waitFor(async () => (await page.getByTestId('new-agent-token').count()) === 0, async () => 'The key box did not close');
    const html = await page.content();
    if (html.includes(token)) fail('The key is still somewhere in the page after the box was closed');
    if (!(await text(page.getByTestId('mcp-config'))).includes('PASTE-THE-AGENT-TOKEN-HERE')) fail('After the key box closed, the setup does not ask for the key to be pasted');
    await nav.getByRole('link', { name: 'Audit', exact: true }).click();
    await nav.getByRole('link', { name: 'Agents', exact: true }).click();
    await waitFor(async () => (await row.count()) === 1, async () => `Back on Agents the agent is not listed; ${await failureText()}`);
    if ((await page.content()).includes(token)) fail('The key shows again after leaving and reopening the Agents screen');
  });

  await check('Agents: ticking Read in the matrix makes the gateway hold the grant', async () => {
    const live = (await controlOk(page, 'GET', '/connections', undefined, 'Listing connections')).filter((c) => c.status !== 'removed');
    if (live.length === 0) fail('No live connection to grant on (earlier checks should have connected one)');
    connection = live[0].id;
    await row.getByTestId('agent-select').click();
    if ((await page.getByTestId('grants-matrix').getAttribute('data-agent')) !== AGENT) fail('Selecting the agent did not show its grants');
    if (await cell(connection, 'read').isChecked()) fail('A new agent already shows Read ticked');
    await cell(connection, 'read').check();
    await waitFor(() => holds('read'), async () => `Ticking Read on ${connection} did not create the grant; ${await failureText()}`);
    await waitFor(() => cell(connection, 'read').isChecked(), async () => 'After the grant the Read box is not ticked');
    const tools = await agentCall(token, 'GET', '/tools');
    if (tools.status !== 200 || !JSON.stringify(tools.body).includes(connection)) fail(`With the read grant the agent sees no tools on ${connection}: HTTP ${tools.status}`);
  });

  await check('Agents: an access request shows the agent\'s reason and Grant creates exactly that grant', async () => {
    const asked = await agentCall(token, 'POST', '/tools/request_access', { input: { connection, tier: 'write', reason: REASON_WRITE } });
    const id = asked.body?.result?.id;
    if (asked.status !== 200 || typeof id !== 'string') fail(`The agent's request_access was not accepted: HTTP ${asked.status} ${JSON.stringify(asked.body).slice(0, 200)}`);
    const item = page.locator(`[data-testid="access-request"][data-request="${id}"]`);
    await waitFor(async () => (await item.count()) === 1, async () => `The agent's access request did not appear; ${await failureText()}`);
    const reason = await text(item.getByTestId('access-request-reason'));
    if (reason !== REASON_WRITE) fail(`The request shows "${reason}" instead of the agent's reason`);
    await item.getByTestId('request-grant').click();
    await waitFor(() => holds('write'), async () => `Granting the request did not create the write grant; ${await failureText()}`);
    await waitFor(async () => (await item.count()) === 0, async () => 'The granted request is still listed as waiting');
    await waitFor(() => cell(connection, 'write').isChecked(), async () => 'The matrix does not show the granted write');
  });

  await check('Agents: Dismiss grants nothing', async () => {
    const asked = await agentCall(token, 'POST', '/tools/request_access', { input: { connection, tier: 'delete', reason: REASON_DELETE } });
    const id = asked.body?.result?.id;
    if (typeof id !== 'string') fail(`The second request_access was not accepted: HTTP ${asked.status}`);
    const item = page.locator(`[data-testid="access-request"][data-request="${id}"]`);
    await waitFor(async () => (await item.count()) === 1, async () => 'The second access request did not appear');
    await shot('agents');
    await item.getByTestId('request-dismiss').click();
    await waitFor(async () => (await item.count()) === 0, async () => `The dismissed request is still listed; ${await failureText()}`);
    const after = (await controlOk(page, 'GET', '/requests?status=all', undefined, 'Listing requests')).find((r) => r.id === id);
    if (after?.status !== 'dismissed') fail(`The request is "${after?.status}" instead of dismissed`);
    if (await holds('delete')) fail('Dismissing the request granted delete anyway');
  });

  await check('Agents: unticking Read takes the grant away', async () => {
    await cell(connection, 'read').uncheck();
    await waitFor(async () => !(await holds('read')), async () => `Unticking Read did not revoke the grant; ${await failureText()}`);
  });

  await check('Agents: revoking asks first, then the key stops working at once', async () => {
    await row.getByTestId('agent-revoke').click();
    await waitFor(() => row.getByTestId('agent-revoke-confirm').isVisible(), async () => 'Revoke did not ask for confirmation');
    if ((await agentCall(token, 'GET', '/whoami')).status !== 200) fail('The agent was revoked before the confirmation');
    await row.getByTestId('agent-revoke-yes').click();
    await waitFor(async () => (await row.getAttribute('data-state')) === 'revoked', async () => `The agent is not shown as revoked; ${await failureText()}`);
    const who = await agentCall(token, 'GET', '/whoami');
    if (who.status !== 401) fail(`The revoked agent's key still answers HTTP ${who.status} instead of 401`);
    const { status } = await control(page, 'GET', '/agents');
    if (status !== 200) fail(`Listing agents after the revoke answered HTTP ${status}`);
  });
}
