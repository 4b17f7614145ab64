// The Rate limits screen: each connection's budget left and a live chart of the last hour that
// fills with real points as an agent calls, without reloading the page.
const SANDBOX_TOKEN = 'pat-sandbox-na1-00000000-0000-4000-8000-000000000001';

export default async function rateLimits(t) {
  const { page, check, waitFor, fail, controlOk, agentCall, failureText, shot } = t;
  let conn = '';
  let token = '';
  const calls = async (n) => {
    for (let i = 0; i < n; i += 1) {
      const { status, body } = await agentCall(token, 'POST', '/tools/hubspot_list_contacts', { connection: conn, input: {} });
      if (status !== 200) fail(`The agent's call ${i + 1} failed: HTTP ${status} ${JSON.stringify(body).slice(0, 200)}`);
    }
  };
  const card = () => page.locator(`[data-testid="limits-card"][data-connection="${conn}"]`);
  const hourCalls = async () => Number((await card().getAttribute('data-calls-hour')) ?? '-1');

  await check('Rate limits: a connection an agent calls a few times', async () => {
    conn = (
      await controlOk(page, 'POST', '/connections', { provider: 'hubspot-sandbox', label: 'Pacing CRM', api_key: SANDBOX_TOKEN }, 'Connecting the simulated HubSpot')
    ).id;
    token = (await controlOk(page, 'POST', '/agents', { name: 'pace-bot' }, 'Adding the agent')).token;
    await controlOk(page, 'POST', '/grants', { agent: 'pace-bot', connection: conn, tier: 'read' }, 'Granting read');
    await calls(6);
  });

  await check('Rate limits: the chart draws the calls and the budget shows what is left', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rate limits', exact: true }).click();
    await waitFor(async () => (await card().count()) === 1, async () => `The Rate limits screen shows no card for "Pacing CRM"; ${await failureText()}`);
    await waitFor(async () => (await hourCalls()) >= 6, async () => `The chart counts ${await hourCalls()} calls in the last hour, not the 6 the agent made`);
    const meter = card().getByTestId('limits-budget');
    const [value, max] = [Number(await meter.getAttribute('value')), Number(await meter.getAttribute('max'))];
    if (!(max > 0 && value >= 0 && value <= max)) fail(`The budget meter shows ${value} of ${max}`);
    // The calls line is drawn in its own colour on the canvas: count those pixels.
    const drawn = await card()
      .locator('canvas')
      .first()
      .evaluate((canvas) => {
        const ctx = canvas.getContext('2d');
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (Math.abs(data[i] - 0x3b) < 24 && Math.abs(data[i + 1] - 0x6f) < 24 && Math.abs(data[i + 2] - 0xe0) < 24 && data[i + 3] > 200) n += 1;
        }
        return { n, w: canvas.width, h: canvas.height };
      });
    if (drawn.w === 0 || drawn.h === 0) fail('The chart canvas has no size');
    if (drawn.n < 10) fail(`The chart canvas shows no line of calls (${drawn.n} pixels in the calls colour)`);
    const words = (await card().getByTestId('limits-hour').innerText()).replace(/\s+/g, ' ');
    if (!/\d+ calls in the last hour/.test(words)) fail(`The chart's summary does not count the calls: "${words}"`);
  });

  await check('Rate limits: new calls appear without reloading', async () => {
    const before = await hourCalls();
    await calls(3);
    await waitFor(
      async () => (await hourCalls()) >= before + 3,
      async () => `After 3 more calls the chart still counts ${await hourCalls()} (was ${before}): it does not refresh by itself`,
    );
    await page.evaluate(() => document.querySelector('.app-main')?.scrollTo(0, 0));
    await shot('rate-limits');
  });
}
