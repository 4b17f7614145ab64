// The Scopes screen: a connection's permissions and agent grants with their 30-day use; an
// unused permission and an unused agent grant are each removed in one click, and the gateway
// then refuses what they allowed.
const SANDBOX_TOKEN = 'pat-sandbox-na1-00000000-0000-4000-8000-000000000001';
const CONTACTS = 'crm.objects.contacts.read';
const COMPANIES = 'crm.objects.companies.read';
const DEALS = 'crm.objects.deals.read';

export default async function scopes(t) {
  const { page, check, waitFor, fail, controlOk, agentCall, failureText, shot } = t;
  let conn = '';
  let token = '';

  await check('Scopes: a connection with an agent that used part of it', async () => {
    const c = await controlOk(
      page,
      'POST',
      '/connections',
      { provider: 'hubspot-sandbox', label: 'Sales CRM', api_key: SANDBOX_TOKEN, scopes: [CONTACTS, COMPANIES, DEALS] },
      'Connecting the simulated HubSpot',
    );
    conn = c.id;
    token = (await controlOk(page, 'POST', '/agents', { name: 'scopes-bot' }, 'Adding the agent')).token;
    for (const tier of ['read', 'write']) {
      await controlOk(page, 'POST', '/grants', { agent: 'scopes-bot', connection: conn, tier }, `Granting ${tier}`);
    }
    const { status, body } = await agentCall(token, 'POST', '/tools/hubspot_list_contacts', { connection: conn, input: {} });
    if (status !== 200) fail(`The agent could not list contacts with its read grant: HTTP ${status} ${JSON.stringify(body).slice(0, 200)}`);
  });

  const report = page.locator(`[data-testid="scope-report"][data-connection="${conn}"]`);
  const row = (scope) => report.locator(`[data-testid="scope-row"][data-scope="${scope}"]`);
  const tierRow = (agent, tier) => report.locator(`[data-testid="tier-row"][data-agent="${agent}"][data-tier="${tier}"]`);

  await check('Scopes: the checklist flags what no agent used and not what was used', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Scopes', exact: true }).click();
    const picker = page.getByTestId('scopes-connection');
    await waitFor(async () => (await picker.count()) === 1, async () => `The Scopes screen offers no connection to pick; ${await failureText()}`);
    await picker.selectOption(conn);
    await waitFor(async () => (await row(CONTACTS).count()) === 1, async () => `The Scopes screen shows no checklist for "Sales CRM"; ${await failureText()}`);
    if ((await row(CONTACTS).getAttribute('data-unused')) !== 'false') fail('Contacts were read just now, yet the checklist flags that permission as unused');
    if ((await row(CONTACTS).getByTestId('scope-remove').count()) !== 0) fail('A permission used just now is offered for removal');
    if ((await row(DEALS).getAttribute('data-unused')) !== 'true') fail('No agent read deals, yet the checklist does not flag that permission');
    const needs = (await row(CONTACTS).innerText()).replace(/\s+/g, ' ');
    if (!/Needed to: .*list contacts/.test(needs)) fail(`The checklist does not say which actions need the contacts permission: "${needs}"`);
    if ((await tierRow('scopes-bot', 'read').getAttribute('data-unused')) !== 'false') fail('The read grant was used just now, yet it is flagged');
    if ((await tierRow('scopes-bot', 'write').getAttribute('data-unused')) !== 'true') fail('The write grant was never used, yet it is not flagged');
    const honest = (await page.getByTestId('scope-removal-words').innerText()).replace(/\s+/g, ' ');
    if (!/key itself keeps the permission at HubSpot/.test(honest)) fail(`The screen does not say what stays at HubSpot when a permission is removed: "${honest}"`);
  });

  await check('Scopes: removing an unused permission in one click makes the gateway refuse it', async () => {
    await row(DEALS).getByTestId('scope-remove').click();
    await waitFor(
      async () => (await row(DEALS).getAttribute('data-granted')) === 'false',
      async () => `After "Remove" the deals permission still shows as held; ${await failureText()}`,
    );
    const list = await controlOk(page, 'GET', '/connections', undefined, 'Listing connections');
    const held = list.find((c) => c.id === conn)?.granted_scopes ?? [];
    if (held.includes(DEALS) || !held.includes(CONTACTS)) fail(`The gateway should hold contacts and no longer deals, but holds ${held.join(', ')}`);
    const { status, body } = await agentCall(token, 'POST', '/tools/hubspot_list_deals', { connection: conn, input: {} });
    if (status !== 403 || body?.code !== 'scope_not_granted') {
      fail(`After removing the deals permission the agent should be refused with scope_not_granted, got HTTP ${status} ${JSON.stringify(body).slice(0, 200)}`);
    }
  });

  await check('Scopes: taking an unused write grant away in one click', async () => {
    await tierRow('scopes-bot', 'write').getByTestId('tier-remove').click();
    await waitFor(
      async () => (await tierRow('scopes-bot', 'write').count()) === 0 && (await tierRow('scopes-bot', 'read').count()) === 1,
      async () => `After "Take away" the write grant is still listed; ${await failureText()}`,
    );
    const grants = await controlOk(page, 'GET', '/grants?agent=scopes-bot', undefined, 'Listing grants');
    const tiers = grants.filter((g) => g.connection === conn).map((g) => g.tier);
    if (tiers.includes('write') || !tiers.includes('read')) fail(`The agent should keep read and lose write, but holds ${tiers.join(', ')}`);
    await page.evaluate(() => document.querySelector('.app-main')?.scrollTo(0, 0));
    await shot('scopes');
  });
}
