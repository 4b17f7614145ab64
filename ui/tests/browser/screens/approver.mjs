// Who decides in a browser: the name a login gives once, for the audit log. Runs first among the
// screen modules. The core checks in ../run.mjs named their login through the control API; this
// module checks those decisions carry that name, then logs in again with a fresh login URL (a new,
// unnamed session for this page), sees the name prompt, is refused a decision until it gives the
// name, and types the same name back so the later checks decide under it.
export default async function approverChecks(t) {
  const { page, check, waitFor, fail, text, control, controlOk, agentDrafts, settled, failureText, approver } = t;
  const dialog = page.getByTestId('approver-name-dialog');
  const nav = page.getByRole('navigation', { name: 'Main' });
  let draft = '';

  await check('decisions made in this browser are recorded under the name the login gave', async () => {
    const all = await controlOk(page, 'GET', '/approvals?limit=500', undefined, 'Listing every draft');
    const decided = all.filter((d) => typeof d.decided_by === 'string' && d.decided_by.startsWith('browser'));
    if (decided.length === 0) fail('No draft was decided in the browser, so there is nothing to check the name on');
    const other = decided.filter((d) => d.decided_by !== `browser:${approver}`);
    if (other.length) fail(`${other.length} browser decisions name "${other[0].decided_by}" instead of "browser:${approver}"`);
    const rows = (await controlOk(page, 'GET', '/audit?text=approval.approved&limit=50', undefined, 'Searching the audit')).rows;
    if (!rows.some((r) => r.actor_id === `browser:${approver}`)) fail(`No approval.approved audit row names "browser:${approver}"`);
  });

  await check('a fresh browser login is asked its name once, in a prompt that cannot be skipped', async () => {
    const slack = (await controlOk(page, 'GET', '/connections', undefined, 'Listing connections')).find(
      (c) => c.provider === 'slack-sandbox' && c.status !== 'removed',
    );
    if (!slack) fail('The Slack connection the core checks made is gone');
    const agent = await controlOk(page, 'POST', '/agents', { name: 'approver-bot' }, 'Adding an agent');
    for (const tier of ['read', 'write']) {
      await controlOk(page, 'POST', '/grants', { agent: 'approver-bot', connection: slack.id, tier }, `Granting ${tier}`);
    }
    draft = await agentDrafts(agent.token, 'slack_post_message', { channel: t.slackFeedback, text: 'Signed by a named approver.' }, slack.id);
    const login = await controlOk(page, 'POST', '/login-url', undefined, 'Asking for a fresh login URL');
    await page.goto(login.url, { waitUntil: 'domcontentloaded' });
    await waitFor(() => dialog.isVisible(), async () => `After a fresh login no name prompt shows; ${await failureText()}`);
    const title = await text(dialog.getByRole('heading'));
    if (title !== 'Your name, for the audit log') fail(`The name prompt is titled "${title}"`);
    const session = await controlOk(page, 'GET', '/session', undefined, 'Reading the session');
    if (session.kind !== 'browser' || session.name !== null) fail(`The fresh login should have no name yet, the gateway says ${JSON.stringify(session)}`);
    await page.keyboard.press('Escape');
    if (!(await dialog.isVisible())) fail('Escape dismissed the name prompt; it must stay until a name is given');
  });

  await check('an unnamed login cannot decide: the gateway answers approver_name_required', async () => {
    const { status, body } = await control(page, 'POST', `/approvals/${draft}/approve`);
    if (status !== 428 || body?.code !== 'approver_name_required') fail(`Approving without a name answered HTTP ${status} ${JSON.stringify(body).slice(0, 200)}`);
    const still = await controlOk(page, 'GET', `/approvals/${draft}`, undefined, 'Reading the draft');
    if (still.status !== 'pending') fail(`A refused approval left the draft "${still.status}"`);
  });

  await check('typing the name closes the prompt, and a blank name is refused in words', async () => {
    await dialog.getByTestId('approver-name-save').click();
    const problem = dialog.getByTestId('approver-name-problem');
    await waitFor(() => problem.isVisible(), async () => 'Continuing without a name showed no explanation');
    if (!/Type your name/.test(await text(problem))) fail(`A blank name is refused with "${await text(problem)}"`);
    if ((await controlOk(page, 'GET', '/session', undefined, 'Reading the session')).name !== null) fail('A blank name was saved');
    await dialog.getByTestId('approver-name-input').fill(`  ${approver} `);
    await dialog.getByTestId('approver-name-save').click();
    await waitFor(async () => !(await dialog.isVisible()), async () => `The name prompt stayed open after a name was given; ${await failureText()}`);
    const session = await controlOk(page, 'GET', '/session', undefined, 'Reading the session');
    if (session.name !== approver) fail(`The gateway keeps the name ${JSON.stringify(session.name)} instead of "${approver}"`);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitFor(async () => (await text(page.getByTestId('gateway-status'))) === 'running', async () => 'The page did not come back after a reload');
    if (await dialog.isVisible()) fail('The name prompt came back after a reload; it is asked once per login');
  });

  await check('the approval made after naming says who decided, in the window and the audit log', async () => {
    await nav.getByRole('link', { name: 'Approvals', exact: true }).click();
    const item = page.locator(`[data-testid="approval-item"][data-approval="${draft}"]`);
    await waitFor(() => item.isVisible(), async () => `The Approvals screen does not list draft ${draft}; ${await failureText()}`);
    await item.getByTestId('approval-open').click();
    const detail = page.getByTestId('approval-detail');
    await waitFor(async () => (await detail.getAttribute('data-approval').catch(() => null)) === draft, async () => 'Clicking the draft did not show it');
    await detail.getByTestId('approve-button').click();
    const done = await settled(page, draft);
    if (done.status !== 'executed') fail(`The approved draft ended "${done.status}": ${JSON.stringify(done.result)}`);
    if (done.decided_by !== `browser:${approver}`) fail(`The approval names "${done.decided_by}" instead of "browser:${approver}"`);
    const chain = await controlOk(page, 'GET', `/audit/chain/${draft}`, undefined, 'Reading the causal chain');
    const row = chain.find((r) => r.action === 'approval.approved');
    if (row?.actor_id !== `browser:${approver}`) fail(`The approval's audit row names ${JSON.stringify(row?.actor_id)} as who decided`);
  });
}
