// The whole path a person takes with Switchboard, end to end in the browser: connect the
// simulated HubSpot with its private-app token and the simulated Gmail by signing in on its
// consent page, give a new agent Gmail write on the Agents screen, let that agent — a real MCP
// client over Streamable HTTP with its own key — draft an email to a lead, edit and approve the
// draft on Approvals, then follow the send back through its causal chain on Audit and check at
// the mailbox that exactly the edited email went out, once.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const AGENT = 'lead-mailer';
const CRM_LABEL = 'Journey CRM';
const INBOX_LABEL = 'Journey inbox';
const GMAIL_SCOPES = ['https://www.googleapis.com/auth/gmail.send', 'https://www.googleapis.com/auth/gmail.readonly'];
const DRAFTED_SUBJECT = 'Following up on your evaluation';
const EDITED_SUBJECT = `Your Switchboard pilot plan ${Date.now().toString(36)}`;
const BODY = 'Hi,\n\nThanks for your interest. Here is the pilot plan we discussed.\n\nAlex';

export default async function journey(t) {
  const { page, context, origin, approver, check, waitFor, fail, text, controlOk, failureText, settled, editorFocused, shot } = t;
  const nav = page.getByRole('navigation', { name: 'Main' });
  const card = (provider) => page.locator(`[data-testid="provider"][data-provider="${provider}"]`);
  const labelled = (provider, label) => card(provider).locator('[data-testid="connection"]:not([data-status="removed"])', { hasText: label });
  const liveId = async (provider, label) =>
    (await controlOk(page, 'GET', '/connections', undefined, 'Listing connections')).find((c) => c.provider === provider && c.label === label && c.status !== 'removed')?.id;
  let hubspot = '';
  let gmail = '';
  let token = '';
  let mcp = null;
  let lead = '';
  let approval = '';

  /** A tool call as the agent over MCP; a tool error fails the check with the gateway's words. */
  const tool = async (name, args, what) => {
    const r = await mcp.callTool({ name, arguments: args });
    if (r.isError) fail(`${what}: the agent's ${name} call came back as an error: ${JSON.stringify(r.structuredContent ?? r.content).slice(0, 300)}`);
    return r.structuredContent ?? {};
  };

  try {
    await check('Journey: a person connects HubSpot by pasting its private-app token', async () => {
      await nav.getByRole('link', { name: 'Connections', exact: true }).click();
      const hs = card('hubspot-sandbox');
      await waitFor(async () => (await hs.count()) === 1, async () => `The Connections screen does not offer HubSpot (sandbox); ${await failureText()}`);
      if ((await hs.getByTestId('connect-panel').count()) === 0) await hs.getByTestId('provider-connect').click();
      const method = hs.getByTestId('method-key');
      if (await method.count()) await method.check();
      await waitFor(() => hs.getByTestId('connect-key').isVisible(), async () => 'Clicking Connect on HubSpot showed no form for the key');
      await hs.getByTestId('connect-label').fill(CRM_LABEL);
      await hs.getByTestId('connect-key').fill(t.hubspotToken);
      await hs.getByTestId('connect-submit').click();
      await waitFor(
        async () => (await labelled('hubspot-sandbox', CRM_LABEL).getAttribute('data-status').catch(() => null)) === 'healthy',
        async () => `After pasting the token, "${CRM_LABEL}" is not shown as connected; ${await failureText()}`,
      );
      hubspot = await liveId('hubspot-sandbox', CRM_LABEL);
      if (!hubspot) fail(`The gateway does not list "${CRM_LABEL}" as a live connection`);
      if ((await page.content()).includes(t.hubspotToken)) fail('The page still holds the HubSpot token after connecting');
    });

    await check('Journey: a person connects Gmail by signing in and approving on its consent page', async () => {
      const gm = card('gmail-sandbox');
      await waitFor(async () => (await gm.count()) === 1, async () => `The Connections screen does not offer Gmail (sandbox); ${await failureText()}`);
      await gm.getByTestId('provider-connect').click();
      const form = gm.getByTestId('oauth-form');
      await waitFor(() => form.isVisible(), async () => `Clicking Connect on Gmail showed no sign-in form; ${await failureText()}`);
      await form.locator('input[type="text"]').first().fill(INBOX_LABEL);
      for (const scope of GMAIL_SCOPES) await form.locator(`input[data-scope="${scope}"]`).check();
      await form.getByTestId('oauth-submit').click();
      const waiting = gm.getByTestId('oauth-waiting');
      await waitFor(() => waiting.isVisible(), async () => `Starting the Gmail sign-in did not say to finish it in the browser; ${await failureText()}`);
      // The gateway may also try the system browser; the person uses the link the screen offers.
      const [consent] = await Promise.all([context.waitForEvent('page', { timeout: 15_000 }), waiting.getByRole('link').first().click()]);
      await consent.waitForLoadState('domcontentloaded');
      const approve = consent.getByRole('button', { name: 'Approve' });
      await waitFor(async () => (await approve.count()) === 1, async () => `Gmail's consent page shows no Approve button (at ${consent.url()})`);
      await approve.click();
      await consent.waitForLoadState('load');
      await waitFor(
        async () => !consent.url().includes('/o/oauth2/'),
        async () => `Approving on Gmail's consent page did not send the browser back to Switchboard (still at ${consent.url()})`,
      );
      await consent.close();
      await waitFor(
        async () => (await gm.getByTestId('oauth-result').count()) === 1 || (await labelled('gmail-sandbox', INBOX_LABEL).count()) === 1,
        async () => `After approving, the Connections screen did not say the sign-in finished; ${await failureText()}`,
        30_000,
      );
      await waitFor(
        async () => (await labelled('gmail-sandbox', INBOX_LABEL).getAttribute('data-status').catch(() => null)) === 'healthy',
        async () => `After signing in, "${INBOX_LABEL}" is not shown as connected (${await text(gm.getByTestId('oauth-result'))}); ${await failureText()}`,
      );
      gmail = await liveId('gmail-sandbox', INBOX_LABEL);
      if (!gmail) fail(`The gateway does not list "${INBOX_LABEL}" as a live connection`);
    });

    await check('Journey: a new agent gets Gmail read and write and HubSpot read by ticking the matrix', async () => {
      await nav.getByRole('link', { name: 'Agents', exact: true }).click();
      await waitFor(() => page.getByTestId('agent-add-form').isVisible(), async () => `The Agents screen shows no form to add an agent; ${await failureText()}`);
      await page.getByTestId('agent-name').fill(AGENT);
      await page.getByTestId('agent-add').click();
      const shown = page.getByTestId('new-agent-token');
      await waitFor(() => shown.isVisible(), async () => `Adding the agent showed no key; ${await failureText()}`);
      token = await text(shown);
      await page.getByTestId('dismiss-token').click();
      const row = page.locator(`[data-testid="agent-row"][data-agent="${AGENT}"]`);
      await waitFor(async () => (await row.count()) === 1, async () => `The new agent is not listed; ${await failureText()}`);
      await row.getByTestId('agent-select').click();
      const cell = (connection, tier) => page.locator(`[data-testid="grant-cell"][data-connection="${connection}"][data-tier="${tier}"]`);
      const grants = async () => controlOk(page, 'GET', `/grants?agent=${AGENT}`, undefined, "Listing the agent's grants");
      for (const [connection, tier] of [[gmail, 'read'], [gmail, 'write'], [hubspot, 'read']]) {
        await cell(connection, tier).check();
        await waitFor(
          async () => (await grants()).some((g) => g.connection === connection && g.tier === tier),
          async () => `Ticking ${tier} on ${connection} did not give the agent that grant; ${await failureText()}`,
        );
      }
      if ((await grants()).some((g) => g.connection === hubspot && g.tier !== 'read')) fail('The agent holds more than read on HubSpot though only Read was ticked');
    });

    await check('Journey: the agent connects over MCP with its key and sees the Gmail send tool', async () => {
      mcp = new Client({ name: 'journey-agent', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
      await mcp.connect(transport).catch((e) => fail(`The agent could not connect to ${origin}/mcp with its key: ${e.message}`));
      const { tools } = await mcp.listTools();
      const names = tools.map((x) => x.name);
      for (const want of ['gmail_send_message', 'gmail_search_messages', 'hubspot_search_contacts']) {
        if (!names.includes(want)) fail(`With its grants the agent does not see the ${want} tool (it sees ${names.slice(0, 12).join(', ')})`);
      }
    });

    await check('Journey: the agent finds a lead in HubSpot and drafts an email; it waits for approval', async () => {
      const listed = await tool(
        'hubspot_search_contacts',
        { connection: hubspot, filters: [{ property: 'lifecyclestage', operator: 'EQ', value: 'lead' }], properties: ['email', 'firstname', 'lifecyclestage'] },
        'Looking for leads in the CRM',
      );
      const found = (listed.results ?? []).find((c) => c.properties?.lifecyclestage === 'lead' && c.properties?.email);
      if (!found) fail(`Searching HubSpot for leads gave the agent no lead with an email (${(listed.results ?? []).length} contacts found)`);
      lead = found.properties.email;
      const r = await mcp.callTool({ name: 'gmail_send_message', arguments: { connection: gmail, to: lead, subject: DRAFTED_SUBJECT, text: BODY } });
      const out = r.structuredContent ?? {};
      if (r.isError || out.state !== 'pending_approval' || typeof out.approval_id !== 'string' || out.approval_id === '') {
        fail(`The agent's email should come back as waiting for approval with an approval id, but the tool result was ${JSON.stringify(out).slice(0, 300)}`);
      }
      approval = out.approval_id;
      const held = await controlOk(page, 'GET', `/approvals/${approval}`, undefined, 'Reading the draft');
      if (held.status !== 'pending') fail(`The gateway has the agent's email as "${held.status}" instead of waiting for a person`);
    });

    await check('Journey: on Approvals a person edits the subject with "e" and approves it', async () => {
      await nav.getByRole('link', { name: 'Approvals', exact: true }).click();
      const item = page.locator(`[data-testid="approval-item"][data-approval="${approval}"]`);
      await waitFor(() => item.isVisible(), async () => `Approvals does not list the agent's email ${approval}; ${await failureText()}`);
      await item.getByTestId('approval-open').click();
      const detail = page.getByTestId('approval-detail');
      await waitFor(async () => (await detail.getAttribute('data-approval').catch(() => null)) === approval, async () => 'Opening the draft did not show it');
      await page.keyboard.press('e');
      const subject = detail.getByTestId('edit-field-subject');
      await waitFor(() => subject.isVisible(), async () => 'Pressing "e" opened no editor with a subject field');
      await editorFocused(page);
      if ((await subject.inputValue()) !== DRAFTED_SUBJECT) fail(`The editor's subject starts as "${await subject.inputValue()}" instead of the agent's "${DRAFTED_SUBJECT}"`);
      await subject.fill(EDITED_SUBJECT);
      await detail.getByTestId('approve-edited').click();
      const done = await settled(page, approval);
      if (done.status !== 'executed') fail(`The approved email ended "${done.status}" instead of sent: ${JSON.stringify(done.result).slice(0, 200)}`);
      if (done.edited_input?.subject !== EDITED_SUBJECT) fail(`The gateway recorded the edit as ${JSON.stringify(done.edited_input)}`);
      if (done.decided_by !== `browser:${approver}`) fail(`The approval names "${done.decided_by}" instead of this login's "${approver}"`);
    });

    await check('Journey: on Audit the send opens its causal chain: trigger, decision, approval with edits, provider call, result', async () => {
      await nav.getByRole('link', { name: 'Audit', exact: true }).click();
      await page.getByTestId('audit-agent').fill(AGENT);
      const sends = page.locator('[data-testid="audit-row"][data-action="gmail.send_message"]');
      await waitFor(async () => (await sends.count()) > 0, async () => `Audit shows no Gmail send by ${AGENT}; ${await failureText()}`);
      await sends.first().getByTestId('audit-row-action').click();
      await page.getByTestId('audit-show-chain').click();
      const chain = page.getByTestId('audit-chain');
      await waitFor(() => chain.isVisible(), async () => `The send's "Show what happened" opened no causal chain; ${await failureText()}`);
      const steps = chain.getByTestId('chain-step');
      const want = ['trigger', 'decision', 'approval', 'provider_call', 'result'];
      await waitFor(
        async () => {
          const got = await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
          return got.length === want.length && want.every((s, i) => got[i] === s);
        },
        async () => `The send's chain shows the steps ${JSON.stringify(await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-stage'))))}, expected ${want.join(' → ')}`,
      );
      const step = (stage) => text(chain.locator(`[data-stage="${stage}"]`));
      const approved = await step('approval');
      if (!approved.includes(`Approved with edits by browser:${approver}`)) fail(`The approval step should say ${approver} approved it with edits: "${approved}"`);
      if (!approved.includes(EDITED_SUBJECT)) fail(`The approval step does not show the edited subject: "${approved}"`);
      if (!(await step('trigger')).includes(AGENT)) fail(`The chain's trigger does not name the agent ${AGENT}: "${await step('trigger')}"`);
      const verified = chain.getByTestId('chain-verify');
      await waitFor(async () => (await verified.getAttribute('data-state')) === 'intact', async () => `The chain's verification says "${await text(verified)}"`);
      await shot('journey');
    });

    await check('Journey: the mailbox holds exactly one sent email with the edited subject, to the lead', async () => {
      const sentWith = async (subject) => {
        const found = await tool('gmail_search_messages', { connection: gmail, label_ids: ['SENT'], q: `subject:"${subject}"`, max_results: 500 }, 'Searching the sent mail');
        const out = [];
        for (const m of found.messages ?? []) {
          const msg = await tool('gmail_get_message', { connection: gmail, id: m.id, format: 'metadata' }, 'Reading a sent email');
          const headers = Object.fromEntries((msg.payload?.headers ?? []).map((h) => [h.name.toLowerCase(), h.value]));
          if (headers.subject === subject) out.push(headers);
        }
        return out;
      };
      const unedited = await sentWith(DRAFTED_SUBJECT);
      if (unedited.length !== 0) fail(`${unedited.length} emails with the agent's unedited subject "${DRAFTED_SUBJECT}" were sent`);
      const matching = await sentWith(EDITED_SUBJECT);
      if (matching.length !== 1) fail(`The sent mail holds ${matching.length} emails with the edited subject, expected exactly one`);
      if (!matching[0].to?.includes(lead)) fail(`The sent email went to "${matching[0].to}" instead of the lead ${lead}`);
    });
  } finally {
    await mcp?.close().catch(() => {});
  }
}
