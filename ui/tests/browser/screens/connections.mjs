// The Connections screen as a person sees it with sandbox tools connected: each connection's
// status in words, and Disconnect saying what revocation will do.
export default async function connections(t) {
  const { page, check, waitFor, fail, controlOk, failureText, shot } = t;
  await check('Connections: live connections show their status and what disconnecting does', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections', exact: true }).click();
    const rows = page.getByTestId('connection');
    await waitFor(async () => (await rows.count()) > 0, async () => `The Connections screen lists no connection; ${await failureText()}`);
    const status = (await rows.first().getByTestId('connection-status').innerText()).trim();
    if (!/Connected|Error|Reconnect needed/.test(status)) fail(`A connection's status is not in words: "${status}"`);
    const crm = page.locator('[data-testid="connection"]', { hasText: 'Sales CRM' });
    if ((await crm.count()) === 1) {
      await crm.getByTestId('connection-disconnect').click();
      const dialog = page.getByTestId('disconnect-dialog');
      await waitFor(() => dialog.isVisible(), async () => 'Clicking Disconnect showed no confirmation');
      const words = (await dialog.innerText()).replace(/\s+/g, ' ');
      if (!/stays valid at HubSpot/.test(words)) fail(`Disconnect does not say the pasted key stays valid at HubSpot: "${words}"`);
      await dialog.getByRole('button', { name: /cancel|keep/i }).first().click();
    }
    await page.evaluate(() => document.querySelector('.app-main')?.scrollTo(0, 0));
    await shot('connections');
  });

  await check('Connections: a connection opens the Scopes screen on itself', async () => {
    const row = page.locator('[data-testid="connection"]', { hasText: 'Pacing CRM' });
    if ((await row.count()) !== 1) fail('The Connections screen does not list "Pacing CRM"');
    const id = (await controlOk(page, 'GET', '/connections', undefined, 'Listing connections')).find((c) => c.label === 'Pacing CRM' && c.status !== 'removed')?.id;
    await row.getByTestId('connection-review-scopes').click();
    await waitFor(
      async () => (await page.locator(`[data-testid="scope-report"][data-connection="${id}"]`).count()) === 1,
      async () => `"See which permissions agents used" did not open the Scopes screen on "Pacing CRM" (at ${page.url()}); ${await failureText()}`,
    );
  });
}
