// A CRM update waits as old → new: the Approvals screen shows each property the draft changes with
// the value the record holds now (read by the gateway when the draft was queued) beside the value
// it will have, and says "unknown" for a record it could not read.
export default async function crmDiffChecks(t) {
  const { page, check, waitFor, fail, text, controlOk, agentCall, agentDrafts, failureText, hubspotToken } = t;
  const nav = page.getByRole('navigation', { name: 'Main' });
  const detail = page.getByTestId('approval-detail');
  const open = async (id) => {
    await nav.getByRole('link', { name: 'Approvals', exact: true }).click();
    const item = page.locator(`[data-testid="approval-item"][data-approval="${id}"]`);
    await waitFor(() => item.isVisible(), async () => `The Approvals screen does not list draft ${id}; ${await failureText()}`);
    await item.getByTestId('approval-open').click();
    await waitFor(async () => (await detail.getAttribute('data-approval').catch(() => null)) === id, async () => `Clicking draft ${id} did not show it`);
  };

  await check('a CRM update shows each property as it is now → as it will be after approval', async () => {
    const scopes = ['crm.objects.contacts.read', 'crm.objects.contacts.write'];
    const conn = await controlOk(page, 'POST', '/connections', { provider: 'hubspot-sandbox', label: 'CRM drafts', api_key: hubspotToken, scopes }, 'Connecting the simulated HubSpot');
    const agent = await controlOk(page, 'POST', '/agents', { name: 'crm-bot' }, 'Adding an agent');
    for (const tier of ['read', 'write']) await controlOk(page, 'POST', '/grants', { agent: 'crm-bot', connection: conn.id, tier }, `Granting ${tier}`);
    const read = await agentCall(agent.token, 'POST', '/tools/hubspot_get_contact', { connection: conn.id, input: { contact_id: '150', properties: ['jobtitle'] } });
    if (read.status !== 200) fail(`Reading contact 150 as the agent answered HTTP ${read.status}: ${JSON.stringify(read.body).slice(0, 200)}`);
    const held = read.body.result.properties.jobtitle;
    const now = typeof held === 'string' && held !== '' ? held : 'not set';
    const draft = await agentDrafts(agent.token, 'hubspot_update_contact', { contact_id: '150', properties: { jobtitle: 'Head of Ops' } }, conn.id);
    await open(draft);
    const table = detail.getByTestId('crm-changes');
    await waitFor(() => table.isVisible(), async () => `The CRM draft shows no change table; ${await failureText()}`);
    if ((await table.getAttribute('data-has-old')) !== 'true') fail('The change to an existing contact is shown without its current values');
    const row = table.locator('[data-testid="crm-change"][data-field="jobtitle"]');
    const shown = [await text(row.getByTestId('crm-old')), (await text(row.getByTestId('crm-new'))).replace(/^→\s*/, '')];
    if (shown[0] !== now || shown[1] !== 'Head of Ops') fail(`The job title change reads "${shown[0]} → ${shown[1]}" instead of "${now} → Head of Ops"`);
    await controlOk(page, 'POST', `/approvals/${draft}/reject`, { reason: 'checked the preview only' }, 'Rejecting the CRM draft');

    const missing = await agentDrafts(agent.token, 'hubspot_update_contact', { contact_id: '987654', properties: { jobtitle: 'Nobody' } }, conn.id);
    await open(missing);
    const cell = detail.locator('[data-testid="crm-change"][data-field="jobtitle"] [data-testid="crm-old"]');
    await waitFor(async () => (await text(cell)) === 'unknown', async () => `A record that could not be read shows its old value as "${await text(cell)}" instead of "unknown"`);
    const why = await text(detail.getByTestId('crm-old-unknown'));
    if (!/404/.test(why)) fail(`The draft does not say why the old values are unknown (it says "${why}")`);
    await controlOk(page, 'POST', `/approvals/${missing}/reject`, { reason: 'checked the preview only' }, 'Rejecting the CRM draft');
  });
}
