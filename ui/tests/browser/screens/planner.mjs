// The Planner screen: every workflow listed; one whose support desk cannot be connected says
// so; Collections starts unticked, its Connect button opens Connections on the simulated
// Stripe, and connecting it, granting an agent and the agent's first call tick the steps.
// The simulated Stripe's documented billing key (crates/sandbox); not a secret.
const STRIPE_BILLING_KEY = 'rk_test_51SbxSwitchboardBilling000000000000000000001';
const AGENT = 'collections-bot';

export default async function plannerChecks(t) {
  const { page, check, waitFor, fail, text, controlOk, agentCall, failureText, shot } = t;
  const nav = page.getByRole('navigation', { name: 'Main' });
  const option = (id) => page.locator(`[data-testid="workflow-option"][data-workflow="${id}"]`);
  const stripe = page.locator('[data-testid="integration"][data-provider="stripe"]');
  const step = (id) => stripe.locator(`[data-testid="plan-step"][data-step="${id}"]`);
  const stepDone = async (id) => (await step(id).getAttribute('data-done')) === 'true';
  const openCollections = async () => {
    await nav.getByRole('link', { name: 'Planner', exact: true }).click();
    await waitFor(async () => (await option('collections').count()) === 1, async () => `The Planner lists no Collections workflow; ${await failureText()}`);
    await option('collections').locator('input').check();
    await waitFor(async () => (await stripe.count()) === 1, async () => 'Picking Collections does not show Stripe among what it needs');
  };

  await check('Planner: the five workflows are offered, and support triage says what cannot be connected yet', async () => {
    await nav.getByRole('link', { name: 'Planner', exact: true }).click();
    const ids = ['lead-follow-up', 'inbox-triage', 'support-triage', 'collections', 'feedback-routing'];
    await waitFor(async () => (await page.getByTestId('workflow-option').count()) === ids.length, async () => `The Planner does not list the five workflows; ${await failureText()}`);
    for (const id of ids) if ((await option(id).count()) !== 1) fail(`The Planner does not offer the ${id} workflow`);
    await option('support-triage').locator('input').check();
    await waitFor(() => page.getByTestId('workflow-blocked').isVisible(), async () => 'Support triage does not say part of it cannot be connected yet');
    const desk = page.locator('[data-testid="integration"][data-can-connect="false"]');
    if ((await desk.count()) !== 1 || !/cannot be connected yet/.test(await text(desk.getByTestId('cannot-connect')))) {
      fail('Support triage does not mark its support desk "cannot be connected yet"');
    }
  });

  let connection = '';
  await check('Planner: Collections starts unticked and its Connect button opens Connections on the simulated Stripe', async () => {
    await openCollections();
    const scopes = await stripe.getByTestId('planned-scope').allInnerTexts();
    if (!scopes.some((s) => s.includes('invoice_read')) || !scopes.some((s) => s.includes('invoice_write'))) fail(`Stripe's minimal scopes shown are ${scopes.join(' | ')}`);
    for (const id of ['connect', 'scopes', 'grant', 'try']) if (await stepDone(id)) fail(`On a data dir without Stripe the "${id}" step is already ticked`);
    await step('connect').getByRole('link', { name: 'Connect the simulated Stripe' }).click();
    await waitFor(
      async () => new URL(page.url()).hash === '#/connections?provider=stripe-sandbox' && (await page.getByTestId('connections-search').inputValue()) === 'stripe-sandbox',
      async () => `The Connect button did not open Connections on the simulated Stripe (at ${page.url()})`,
    );
    const visible = await page.locator('[data-testid="provider"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-provider')));
    if (visible.join() !== 'stripe-sandbox') fail(`Connections opened from the Planner shows ${visible.join(', ')} instead of the simulated Stripe alone`);
    const added = await controlOk(
      page,
      'POST',
      '/connections',
      { provider: 'stripe-sandbox', label: 'Billing', api_key: STRIPE_BILLING_KEY, scopes: ['invoice_read', 'customer_read', 'invoice_write'] },
      'Connecting the simulated Stripe',
    );
    connection = added.id;
  });

  await check('Planner: connecting Stripe, granting an agent and its first call tick the steps', async () => {
    await openCollections();
    await waitFor(() => stepDone('connect'), async () => `After connecting Stripe the Planner does not tick "Connect Stripe"; ${await failureText()}`);
    if (!(await stepDone('scopes'))) fail('The connection holds every scope Collections needs but the step is not ticked');
    if (await stepDone('grant')) fail('No agent holds a grant yet but the grant step is ticked');
    const made = await controlOk(page, 'POST', '/agents', { name: AGENT }, 'Adding an agent');
    for (const tier of ['read', 'write']) await controlOk(page, 'POST', '/grants', { agent: AGENT, connection, tier }, `Granting ${tier}`);
    await waitFor(() => stepDone('grant'), async () => `After granting read and write the grant step is not ticked; ${await failureText()}`);
    const call = await agentCall(made.token, 'POST', '/tools/stripe_list_invoices', { connection, input: {} });
    if (call.status !== 200) fail(`The agent's stripe_list_invoices call failed: HTTP ${call.status} ${JSON.stringify(call.body).slice(0, 200)}`);
    await waitFor(() => stepDone('try'), async () => `After the agent's first successful call the "Try it" step is not ticked; ${await failureText()}`);
    await shot('planner');
  });
}
