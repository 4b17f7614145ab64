// The Settings screen: the data folder, the notifications switch (stored by the gateway), and
// an auto-send policy added from a preset and removed again.
export default async function settings(t) {
  const { page, check, waitFor, fail, control, controlOk, failureText, shot } = t;

  await check('Settings: shows the data folder and switches notifications off and on', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings', exact: true }).click();
    const status = await controlOk(page, 'GET', '/status', undefined, 'Reading the gateway status');
    const dir = page.getByTestId('settings-data-dir');
    await waitFor(async () => (await dir.count()) === 1 && (await dir.innerText()) === status.data_dir, async () => `Settings does not show the data folder ${status.data_dir}; ${await failureText()}`);
    const box = page.getByTestId('settings-notifications');
    await waitFor(async () => (await box.count()) === 1, async () => `Settings shows no notifications switch; ${await failureText()}`);
    const start = await box.isChecked();
    if (start !== (await controlOk(page, 'GET', '/preferences', undefined, 'Reading preferences')).notifications) fail('The notifications switch does not show what the gateway stores');
    for (const want of [!start, start]) {
      await box.click();
      await waitFor(
        async () => (await control(page, 'GET', '/preferences')).body?.notifications === want && (await box.isChecked()) === want && !(await box.isDisabled()),
        async () => `Clicking the notifications switch did not store ${want}; ${await failureText()}`,
      );
    }
  });

  await check('Settings: a policy added from a preset is listed, then removed', async () => {
    await controlOk(page, 'POST', '/agents', { name: 'office-bot' }, 'Adding the agent');
    await page.reload();
    await waitFor(async () => (await page.getByTestId('policy-agent').count()) === 1, async () => `Settings offers no agent to give a policy; ${await failureText()}`);
    await page.getByTestId('policy-agent').selectOption('office-bot');
    const preset = page.getByTestId('policy-preset');
    await waitFor(async () => (await preset.locator('option[value="appointment-confirmations"]').count()) === 1, async () => `No ready-made policies were offered for office-bot; ${await failureText()}`);
    await preset.selectOption('appointment-confirmations');
    const text = page.getByTestId('policy-text');
    const toml = await text.inputValue();
    if (!toml.includes('agent = "office-bot"')) fail(`The preset's text does not name office-bot: ${toml.slice(0, 200)}`);
    const id = /^id = "([^"]+)"/m.exec(toml)?.[1];
    if (!id) fail(`The preset's text carries no id: ${toml.slice(0, 200)}`);
    await text.fill(toml.replace(/^name = "[^"]*"/m, 'name = "Confirmations for the front desk"'));
    await page.getByTestId('policy-add').click();
    const item = page.locator(`[data-testid="policy"][data-policy="${id}"]`);
    await waitFor(async () => (await item.count()) === 1, async () => `The added policy is not listed; ${await failureText()}`);
    const listed = await controlOk(page, 'GET', '/policies', undefined, 'Listing policies');
    const stored = listed.find((p) => p.policy.id === id);
    if (stored?.policy.name !== 'Confirmations for the front desk') fail(`The gateway did not store the edited policy: ${JSON.stringify(stored).slice(0, 200)}`);
    await page.locator('#policies-heading').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await shot('settings');
    await item.getByTestId('policy-remove').click();
    await waitFor(async () => (await item.count()) === 0, async () => `The removed policy is still listed; ${await failureText()}`);
    const after = await controlOk(page, 'GET', '/policies', undefined, 'Listing policies');
    if (after.some((p) => p.policy.id === id)) fail('The gateway still holds the removed policy');
  });
}
