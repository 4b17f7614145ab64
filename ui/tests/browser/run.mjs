#!/usr/bin/env node
// Browser test of the Switchboard UI served by a running gateway (`switchboard serve`).
//
//   SWITCHBOARD_LOGIN_URL   one-time login URL, e.g. http://127.0.0.1:PORT/login?code=...   (required;
//                           the gateway must run with --sandbox on a fresh data dir)
//   SWITCHBOARD_VERSION     version the header must show                                  (required)
//   SWITCHBOARD_SCREENSHOT  where to save a PNG of the Audit screen; a PNG of the Approvals (optional)
//                           screen is saved beside it as approvals.png
//   SWITCHBOARD_CHROMIUM    browser binary, default /usr/bin/chromium                      (optional)
//
// Drives Debian's Chromium through playwright-core. Prints one line per check and a closing
// line; exits 0 when every check passed, 1 on the first failure, 2 on a usage error.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  CheckFailed,
  agentCall,
  agentDrafts,
  check,
  connectGmail,
  control,
  controlOk,
  editorFocused,
  fail,
  passedCount,
  setOrigin,
  settled,
  text,
  waitFor,
} from './lib.mjs';
import { SCREENS } from './screens/index.mjs';

const NAV = [
  ['connections', 'Connections'],
  ['scopes', 'Scopes'],
  ['approvals', 'Approvals'],
  ['rate-limits', 'Rate limits'],
  ['audit', 'Audit'],
  ['agents', 'Agents'],
  ['planner', 'Planner'],
  ['settings', 'Settings'],
];
const NO_MATCH_TERM = 'zqxjv-no-such-audit-entry';
const CATEGORIES = ['CRM', 'Email & Calendar', 'Communication', 'Data', 'Commerce & Finance', 'Support'];
// The simulated HubSpot's documented private-app token (crates/sandbox); not a secret.
const SANDBOX_TOKEN = 'pat-sandbox-na1-00000000-0000-4000-8000-000000000001';
const WRONG_TOKEN = 'pat-sandbox-na1-00000000-0000-4000-8000-00000000dead';
// The simulated Slack's documented bot token and its #customer-feedback channel (crates/sandbox).
const SLACK_BOT_TOKEN = 'slack-sandbox-bot-token-not-real-0001';
const SLACK_FEEDBACK = 'C05SBXFDB1';
const SLACK_SCOPES = ['channels:read', 'channels:history', 'users:read', 'chat:write'];
/** The name this browser login gives for the audit log. */
const APPROVER = 'Robin Ortiz';
const GMAIL_SEND = 'https://www.googleapis.com/auth/gmail.send';
const INJECTION_CORPUS = new URL('../../../tests/fixtures/injection/corpus.jsonl', import.meta.url);
const PROVIDER_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";
const OVERALL_MS = 600_000;

const loginUrl = process.env.SWITCHBOARD_LOGIN_URL ?? '';
const version = process.env.SWITCHBOARD_VERSION ?? '';
const screenshotPath = process.env.SWITCHBOARD_SCREENSHOT || null;
const chromiumPath = process.env.SWITCHBOARD_CHROMIUM || '/usr/bin/chromium';

if (!/^https?:\/\/[^/]+\/login\?/.test(loginUrl) || !version) {
  console.error(
    'usage: SWITCHBOARD_LOGIN_URL=http://127.0.0.1:PORT/login?code=... SWITCHBOARD_VERSION=X.Y.Z ' +
      '[SWITCHBOARD_SCREENSHOT=out.png] npm run test:browser',
  );
  console.error(`browser test: USAGE ERROR (login URL ${loginUrl ? 'malformed' : 'missing'}${version ? '' : ', version missing'})`);
  process.exit(2);
}
const origin = new URL(loginUrl).origin;
setOrigin(origin);

async function main(page, context, pageErrors) {
  const rows = page.getByTestId('audit-row');
  const failureText = async () => {
    const notice = await text(page.locator('[role="alert"]'));
    return notice ? `the page says "${notice.replace(/\s+/g, ' ')}"` : 'no error is shown';
  };

  await check('login URL opens the UI', async () => {
    const response = await page.goto(loginUrl, { waitUntil: 'domcontentloaded' }).catch((e) =>
      fail(`Gateway not reachable at ${origin}: ${e.message.split('\n')[0]}`),
    );
    const url = new URL(page.url());
    if (url.pathname === '/login') {
      const body = (await page.locator('body').innerText().catch(() => '')).slice(0, 200);
      fail(
        `Login URL was refused (HTTP ${response?.status()}): ${body || 'empty page'}. ` +
          'Login links work once; get a fresh one with `switchboard login-url`.',
      );
    }
    if (url.origin !== origin || url.pathname !== '/') {
      fail(`After login the gateway should redirect to ${origin}/, but the browser is at ${page.url()}`);
    }
    const cookies = await context.cookies(origin);
    if (!cookies.some((c) => c.httpOnly)) {
      fail(`After login the gateway set no HttpOnly session cookie (cookies: ${cookies.map((c) => c.name).join(', ') || 'none'})`);
    }
  });

  // The name this login's decisions are recorded under (`browser:<name>`). Set through the
  // control API before any check decides, so the name prompt does not cover the page; the
  // prompt itself is checked in ./screens/approver.mjs with a second login.
  await check('this login gives its approver name once and the page asks no more', async () => {
    const session = await controlOk(page, 'GET', '/session', undefined, 'Reading the session');
    if (session.kind !== 'browser' || session.name !== null) fail(`A fresh browser login should have no name yet, the gateway says ${JSON.stringify(session)}`);
    await controlOk(page, 'PUT', '/session/name', { name: APPROVER }, 'Giving the approver name');
    await page.reload({ waitUntil: 'domcontentloaded' });
    const named = await controlOk(page, 'GET', '/session', undefined, 'Reading the session');
    if (named.name !== APPROVER) fail(`The session should be named "${APPROVER}" but the gateway says ${JSON.stringify(named)}`);
  });

  await check('header shows the gateway running', async () => {
    await waitFor(
      async () => (await text(page.getByTestId('gateway-status'))) === 'running',
      async () => `Header shows gateway status "${await text(page.getByTestId('gateway-status'))}" instead of "running" after login; ${await failureText()}`,
    );
  });

  await check('the pause switch in the header stops every agent and lets them go again', async () => {
    const button = page.getByTestId('pause-switch');
    await waitFor(async () => (await button.count()) === 1, async () => `The header shows no pause switch; ${await failureText()}`);
    if ((await button.getAttribute('aria-pressed')) !== 'false') fail('Agents start running, so the pause switch must start off');
    await button.click();
    await waitFor(
      async () => (await control(page, 'GET', '/pause')).body?.paused === true && (await button.getAttribute('aria-pressed')) === 'true',
      async () => `Clicking "Pause all agents" did not pause them (gateway says ${JSON.stringify((await control(page, 'GET', '/pause')).body)}); ${await failureText()}`,
    );
    await button.click();
    await waitFor(
      async () => (await control(page, 'GET', '/pause')).body?.paused === false && (await button.getAttribute('aria-pressed')) === 'false',
      async () => `Clicking "resume" did not let the agents go again; ${await failureText()}`,
    );
  });

  await check(`header shows version ${version}`, async () => {
    const shown = await text(page.getByTestId('gateway-version'));
    if (!shown.includes(version)) fail(`Header shows version "${shown}" but SWITCHBOARD_VERSION is ${version}`);
  });

  await check('navigation lists every screen and each one opens', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const [id, label] of NAV) {
      const link = nav.getByRole('link', { name: label, exact: true });
      if ((await link.count()) !== 1) fail(`Navigation has no "${label}" entry`);
      await link.click();
      await waitFor(
        async () => new URL(page.url()).hash === `#/${id}` && (await text(page.getByTestId('screen-title'))) !== '',
        async () => `Clicking "${label}" in the navigation did not open its screen (at ${page.url()})`,
      );
    }
    await nav.getByRole('link', { name: 'Audit', exact: true }).click();
  });

  await check('Audit screen lists real rows, including gateway.start', async () => {
    await waitFor(
      async () => (await rows.count()) > 0,
      async () => `Audit screen shows no rows after login: ${await failureText()}`,
    );
    // The gateway.start row may be on an older page when the log is long.
    for (let page_ = 0; page_ < 50; page_ += 1) {
      if ((await page.locator('[data-testid="audit-row"][data-action="gateway.start"]').count()) > 0) return;
      const older = page.getByTestId('audit-load-older');
      if ((await older.count()) === 0) break;
      const before = await rows.count();
      await older.click();
      await waitFor(
        async () => (await rows.count()) > before,
        async () => `"Load older" did not add rows to the Audit screen: ${await failureText()}`,
      );
    }
    const actions = await rows.evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-action')))]);
    fail(`Audit screen shows no row whose action is gateway.start (actions shown: ${actions.slice(0, 10).join(', ')})`);
  });

  await check('a row opens its detail with summary and hashes', async () => {
    await rows.first().getByTestId('audit-row-action').click();
    const detail = page.getByTestId('audit-detail');
    await waitFor(() => detail.isVisible(), async () => 'Clicking an audit row did not open its detail panel');
    const hashTitle = (await detail.getByTestId('audit-detail-hash').getAttribute('title')) ?? '';
    if (hashTitle.length < 16) fail(`Audit row detail does not carry the full hash (title "${hashTitle}")`);
    if ((await detail.getByTestId('audit-detail-summary').count()) !== 1) fail('Audit row detail shows no summary');
    await detail.getByRole('button', { name: 'Close row details' }).click();
    await waitFor(async () => !(await detail.isVisible()), async () => 'The audit row detail panel did not close');
  });

  await check('"Verify chain" reports an intact chain with its row count', async () => {
    const shownRows = await rows.count();
    await page.getByTestId('verify-button').click();
    const result = page.getByTestId('verify-result');
    await waitFor(() => result.isVisible(), async () => 'Clicking "Verify chain" showed no result');
    const shown = (await text(result)).replace(/\s+/g, ' ');
    if ((await result.getAttribute('data-state')) !== 'intact') fail(`Verify chain does not report an intact chain: "${shown}"`);
    const match = /Chain intact: ([\d,]+) rows?/.exec(shown);
    if (!match) fail(`Verify result does not give the row count: "${shown}"`);
    const counted = Number(match[1].replaceAll(',', ''));
    if (counted < 1 || counted < shownRows) {
      fail(`Verify result counts ${counted} rows but the Audit screen shows ${shownRows}: "${shown}"`);
    }
  });

  const search = page.getByTestId('audit-search');
  const list = page.getByTestId('audit-list');
  /** Types `term` and waits until the list shows the answer for exactly that term. */
  const searchFor = async (term) => {
    await search.fill(term);
    await waitFor(
      async () => (await list.getAttribute('data-shown-text')) === term && (await list.getAttribute('aria-busy')) === 'false',
      async () => `Searching the audit for "${term}" never finished; ${await failureText()}`,
    );
  };
  const gatewayStartRows = page.locator('[data-testid="audit-row"][data-action="gateway.start"]');

  await check('searching the audit narrows the rows', async () => {
    const before = await rows.count();
    await searchFor(NO_MATCH_TERM);
    const left = await rows.count();
    if (left !== 0) fail(`Searching the audit for "${NO_MATCH_TERM}" should leave no rows, but ${left} of ${before} are still shown`);
    if (!(await page.getByTestId('audit-empty').isVisible())) {
      fail(`Searching the audit for "${NO_MATCH_TERM}" shows no "no matching rows" message; ${await failureText()}`);
    }
    await searchFor('gateway.start');
    if ((await gatewayStartRows.count()) === 0) {
      fail(`Searching the audit for "gateway.start" finds no gateway.start row (${await rows.count()} rows shown); ${await failureText()}`);
    }
    await searchFor('');
    if ((await rows.count()) === 0) fail(`Clearing the audit search did not bring the rows back; ${await failureText()}`);
    await search.blur();
  });

  await connectionsChecks(page, failureText);
  await approvalsChecks(page, failureText, pageErrors);
  // One module per screen (./screens/*.mjs), each given the page and the shared helpers.
  // `shot(name)` saves docs/screenshots/<name>.png (beside SWITCHBOARD_SCREENSHOT) for the README.
  const shot = async (name) => {
    if (!screenshotPath) return;
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(path.dirname(path.resolve(screenshotPath)), `${name}.png`) });
  };
  const t = { page, context, pageErrors, origin, approver: APPROVER, slackFeedback: SLACK_FEEDBACK, hubspotToken: SANDBOX_TOKEN, failureText, check, waitFor, fail, text, control, controlOk, agentCall, agentDrafts, connectGmail, settled, editorFocused, shot };
  for (const screenChecks of SCREENS) await screenChecks(t);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit', exact: true }).click();
  await waitFor(async () => (await rows.count()) > 0, async () => `Back on the Audit screen no rows show: ${await failureText()}`);

  if (pageErrors.length) fail(`The UI threw an uncaught error: ${pageErrors[0]}`);

  if (screenshotPath) {
    await check(`screenshot saved to ${screenshotPath}`, async () => {
      await mkdir(path.dirname(path.resolve(screenshotPath)), { recursive: true });
      await page.mouse.move(0, 0);
      await page.screenshot({ path: screenshotPath });
    });
  }
}

/** Live connections of `provider` as the gateway itself reports them (not the page). */
async function gatewayConnections(page, provider) {
  return page.evaluate(async (p) => {
    const r = await fetch('/api/control/v1/connections', { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`GET /connections answered HTTP ${r.status}`);
    return (await r.json()).filter((c) => c.provider === p);
  }, provider);
}

async function connectionsChecks(page, failureText) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Connections', exact: true }).click();
  const card = page.locator('[data-testid="provider"][data-provider="hubspot-sandbox"]');
  const live = card.locator('[data-testid="connection"]:not([data-status="removed"])');

  await check('Connections shows the six categories and hubspot-sandbox', async () => {
    const titles = page.locator('[data-testid="category"] h2');
    await waitFor(
      async () => (await titles.count()) === CATEGORIES.length,
      async () => `Connections shows ${await titles.count()} categories instead of ${CATEGORIES.length}: ${await failureText()}`,
    );
    const shown = (await titles.allInnerTexts()).map((t) => t.trim());
    // Headings may be styled in capitals; compare case-insensitively.
    if (shown.map((t) => t.toLowerCase()).join('|') !== CATEGORIES.map((t) => t.toLowerCase()).join('|')) {
      fail(`Connections shows the categories ${shown.join(', ')} instead of ${CATEGORIES.join(', ')}`);
    }
    if ((await card.count()) !== 1) fail('Connections lists no hubspot-sandbox tool (does the gateway run with --sandbox?)');
    const auth = await text(card.getByTestId('provider-auth'));
    if (!/private-app token/i.test(auth)) fail(`hubspot-sandbox does not say it takes a private-app token (it says "${auth}")`);
    if ((await live.count()) !== 0) fail('hubspot-sandbox already shows a connection on a fresh data dir');
  });

  await check('searching the catalog narrows it to the matching tool', async () => {
    const search = page.getByTestId('connections-search');
    await search.fill('hubspot sandbox');
    await waitFor(
      async () => (await page.locator('[data-testid="provider"]').count()) === 1 && (await card.count()) === 1,
      async () => `Searching for "hubspot sandbox" shows ${await page.locator('[data-testid="provider"]').count()} tools instead of 1`,
    );
    await search.fill('');
  });

  const openForm = async () => {
    if ((await card.getByTestId('key-form').count()) === 0) {
      if ((await card.getByTestId('connect-panel').count()) === 0) await card.getByTestId('provider-connect').click();
      const method = card.getByTestId('method-key');
      if (await method.count()) await method.check();
    }
    const key = card.getByTestId('connect-key');
    await waitFor(() => key.isVisible(), async () => 'Clicking "Connect" on hubspot-sandbox showed no key form');
    if ((await key.getAttribute('type')) !== 'password') fail('The key field is not a password field, so the key shows on screen');
    const ticked = await card.locator('[data-testid="key-form"] input[type="checkbox"]:checked').count();
    if (ticked === 0) fail('The scope checklist has nothing ticked; the recommended read-only scopes should be');
    return key;
  };

  await check('a wrong private-app token is refused in words and nothing is saved', async () => {
    const key = await openForm();
    await key.fill(WRONG_TOKEN);
    await card.getByTestId('connect-submit').click();
    const refusal = card.getByTestId('connect-failure');
    await waitFor(() => refusal.isVisible(), async () => `A wrong token showed no refusal; ${await failureText()}`);
    const words = (await text(refusal)).replace(/\s+/g, ' ');
    if ((await refusal.getAttribute('data-code')) !== 'bad_request') fail(`The refusal carries code "${await refusal.getAttribute('data-code')}", not bad_request: "${words}"`);
    if (!/refused/i.test(words) || !/nothing was saved/i.test(words)) fail(`The refusal does not say the key was refused and nothing was saved: "${words}"`);
    if (words.includes(WRONG_TOKEN)) fail('The refusal echoes the key');
    if ((await live.count()) !== 0) fail('A refused token still shows a connection');
    const saved = await gatewayConnections(page, 'hubspot-sandbox');
    if (saved.length !== 0) fail(`A refused token was saved: the gateway lists ${saved.map((c) => c.id).join(', ')}`);
  });

  await check('connecting hubspot-sandbox with its private-app token shows it healthy', async () => {
    const key = await openForm();
    await key.fill(SANDBOX_TOKEN);
    await card.getByTestId('connect-submit').click();
    await waitFor(
      async () => (await live.count()) === 1 && (await live.first().getAttribute('data-status')) === 'healthy',
      async () => `After connecting, hubspot-sandbox shows ${await live.count()} connections; ${await failureText()}`,
    );
    const status = await text(live.first().getByTestId('connection-status'));
    if (status !== 'Connected') fail(`The new connection says "${status}" instead of "Connected"`);
    const scopes = await text(live.first().getByTestId('connection-scopes'));
    if (!/contacts/i.test(scopes)) fail(`The new connection does not list its granted scopes (shows "${scopes}")`);
    if ((await page.content()).includes(SANDBOX_TOKEN)) fail('The page still holds the private-app token after connecting');
    const saved = await gatewayConnections(page, 'hubspot-sandbox');
    if (saved.length !== 1 || saved[0].status !== 'healthy') fail(`The gateway lists ${JSON.stringify(saved)} instead of one healthy connection`);
  });

  await check('the connection shows its live rate-limit budget', async () => {
    const limits = live.first().getByTestId('connection-limits');
    await waitFor(
      async () => /\d+ of \d+ left per/.test(await text(limits)),
      async () => `The connection shows no live budget (shows "${await text(limits)}")`,
    );
  });

  await check('Test checks the connection and says it works', async () => {
    await live.first().getByTestId('connection-test').click();
    const result = live.first().getByTestId('connection-test-result');
    await waitFor(
      async () => (await result.getAttribute('data-ok')) === 'true',
      async () => `Test showed "${await text(result)}" instead of a working result; ${await failureText()}`,
    );
  });

  await check('Disconnect asks first, says the key stays valid at HubSpot, and removes it', async () => {
    await live.first().getByTestId('connection-disconnect').click();
    const dialog = page.getByTestId('disconnect-dialog');
    await waitFor(() => dialog.isVisible(), async () => 'Clicking "Disconnect" opened no confirmation');
    const words = (await text(dialog)).replace(/\s+/g, ' ');
    if (!/stays valid at HubSpot/i.test(words)) fail(`The confirmation does not say the key stays valid at the provider: "${words}"`);
    await dialog.getByTestId('disconnect-confirm').click();
    await waitFor(
      async () => (await live.count()) === 0,
      async () => `After disconnecting, hubspot-sandbox still shows a live connection; ${await failureText()}`,
    );
    const saved = await gatewayConnections(page, 'hubspot-sandbox');
    if (saved.length !== 1 || saved[0].status !== 'removed') fail(`The gateway lists ${JSON.stringify(saved)} instead of one removed connection`);
    await page.getByTestId('show-removed').check();
    const removed = card.locator('[data-testid="connection"][data-status="removed"]');
    await waitFor(async () => (await removed.count()) === 1, async () => '"Show removed connections" does not show the removed connection');
    await page.getByTestId('show-removed').uncheck();
  });
}

// ---------- Approvals ----------

async function channelTexts(token) {
  const { status, body } = await agentCall(token, 'POST', '/tools/slack_channel_history', { input: { channel: SLACK_FEEDBACK, limit: 200 } });
  if (status !== 200) fail(`Reading #customer-feedback as the agent answered HTTP ${status}: ${JSON.stringify(body).slice(0, 200)}`);
  return body.result.messages.map((m) => m.text);
}

async function approvalsChecks(page, failureText, pageErrors) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  const badge = page.getByTestId('nav-approvals-count');
  const item = (id) => page.locator(`[data-testid="approval-item"][data-approval="${id}"]`);
  const detail = page.getByTestId('approval-detail');
  const badgeCount = async () => ((await badge.count()) ? Number(await badge.getAttribute('data-count')) : null);
  const waitBadge = (n, why) =>
    waitFor(
      async () => (await badgeCount()) === n,
      async () => `The navigation's approvals count shows ${await badgeCount()} instead of ${n} ${why}`,
    );
  const current = async () => detail.getAttribute('data-approval').catch(() => null);
  const waitCurrent = (id, why) =>
    waitFor(
      async () => (await current()) === id,
      async () => `${why}: the draft shown is ${await current()}, expected ${id}; ${await failureText()}`,
    );
  const press = async (key) => {
    await page.keyboard.press(key);
  };

  let token = '';
  let slack = '';
  const drafted = 'Thanks Grace, we are on the CSV export timeouts.';
  const edited = 'Thanks Grace, a fix for the CSV export timeouts ships Friday.';
  let first = '';

  await check('an agent\'s Slack post waits as a draft and the navigation counts it', async () => {
    const conn = await controlOk(page, 'POST', '/connections', { provider: 'slack-sandbox', label: 'Acme Slack', api_key: SLACK_BOT_TOKEN }, 'Connecting the simulated Slack');
    slack = conn.id;
    await controlOk(page, 'PUT', `/connections/${slack}/scopes`, { scopes: SLACK_SCOPES }, 'Ticking the Slack scopes');
    const agent = await controlOk(page, 'POST', '/agents', { name: 'feedback-bot' }, 'Adding the agent');
    token = agent.token;
    for (const tier of ['read', 'write']) {
      await controlOk(page, 'POST', '/grants', { agent: 'feedback-bot', connection: slack, tier }, `Granting ${tier}`);
    }
    first = await agentDrafts(token, 'slack_post_message', { channel: SLACK_FEEDBACK, text: drafted });
    await waitBadge(1, 'after the agent drafted one message');
  });

  await check('Approvals shows the draft as a Slack message in its channel', async () => {
    await nav.getByRole('link', { name: 'Approvals', exact: true }).click();
    await waitFor(() => item(first).isVisible(), async () => `The Approvals screen does not list the draft ${first}; ${await failureText()}`);
    await waitCurrent(first, 'The only draft should be shown');
    if ((await detail.getByTestId('draft-preview').getAttribute('data-kind')) !== 'chat_message') fail('The Slack draft is not shown as a chat message');
    const channel = await text(detail.getByTestId('chat-channel'));
    if (channel !== SLACK_FEEDBACK) fail(`The Slack draft names channel "${channel}" instead of ${SLACK_FEEDBACK}`);
    const body = await text(detail.getByTestId('draft-text'));
    if (body !== drafted) fail(`The Slack draft shows "${body}" instead of the agent's text "${drafted}"`);
    if ((await text(detail.getByTestId('approval-agent'))) !== 'feedback-bot') fail('The draft does not say which agent asked');
    if (screenshotPath) {
      await page.mouse.move(0, 0);
      await page.screenshot({ path: path.join(path.dirname(path.resolve(screenshotPath)), 'approvals.png') });
    }
  });

  await check('e opens the editor; the edited text is what Slack receives, once, and the count drops', async () => {
    // The drafts arrived live one after another, so the first to arrive is current: start at the top.
    await page.getByTestId('approval-open').first().click();
    await press('e');
    const field = detail.getByTestId('edit-field-text');
    await waitFor(() => field.isVisible(), async () => 'Pressing "e" opened no editor with a text field');
    await editorFocused(page);
    if ((await field.inputValue()) !== drafted) fail(`The editor starts from "${await field.inputValue()}" instead of the draft`);
    await field.fill(edited);
    await detail.getByTestId('approve-edited').click();
    const done = await settled(page, first);
    if (done.status !== 'executed') fail(`The approved draft ended "${done.status}": ${JSON.stringify(done.result)}`);
    if (done.edited_input?.text !== edited) fail(`The gateway recorded the edit as ${JSON.stringify(done.edited_input)}`);
    if (done.decided_by !== `browser:${APPROVER}`) fail(`The approval names "${done.decided_by}" as the approver instead of this browser login's "${APPROVER}"`);
    const texts = await channelTexts(token);
    if (texts.filter((t) => t === edited).length !== 1) fail(`#customer-feedback holds the edited text ${texts.filter((t) => t === edited).length} times, expected once`);
    if (texts.includes(drafted)) fail("The agent's unedited text reached Slack");
    const note = page.locator(`[data-testid="recent-decision"][data-approval="${first}"]`);
    await waitFor(
      async () => (await note.getAttribute('data-status').catch(() => null)) === 'executed',
      async () => `The screen does not say the approved draft was sent (it says "${await text(note)}")`,
    );
    await waitBadge(0, 'after the only draft was approved');
    if (await badge.isVisible()) fail('The approvals count is still shown at zero');
  });

  let rejected = '';
  let kept = '';
  await check('j/k move between drafts and r rejects with a required reason the agent sees', async () => {
    rejected = await agentDrafts(token, 'slack_post_message', { channel: SLACK_FEEDBACK, text: 'We will refund everyone!' });
    kept = await agentDrafts(token, 'slack_post_message', { channel: SLACK_FEEDBACK, text: 'Second note from the agent.' });
    await waitFor(
      async () => (await item(rejected).count()) === 1 && (await item(kept).count()) === 1,
      async () => `The two new drafts did not appear in Approvals; ${await failureText()}`,
    );
    await waitBadge(2, 'with two drafts waiting');
    // Newest first (two drafts made in the same millisecond may show either way round). The
    // first draft to arrive in the empty inbox became current and stays current as the second
    // arrives live above it (the selection never jumps under the keyboard); k moves to the top.
    const order = await page.getByTestId('approval-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-approval')));
    await waitFor(
      async () => order.includes(await current()),
      async () => `One of the two new drafts should be current, the draft shown is ${await current()}`,
    );
    await press('k');
    await waitCurrent(order[0], 'After "k" the top draft should be current');
    await press('j');
    await waitCurrent(order[1], 'After "j"');
    if ((await page.evaluate(() => document.activeElement?.closest('[data-testid="approval-item"]')?.getAttribute('data-approval'))) !== order[1]) {
      fail('After "j" the focus did not move to the current draft in the list');
    }
    await press('k');
    await waitCurrent(order[0], 'After "k"');
    if (order[1] === rejected) await press('j');
    await waitCurrent(rejected, 'Moving to the draft to reject');
    await press('r');
    const reason = detail.getByTestId('reject-reason');
    await waitFor(() => reason.isVisible(), async () => 'Pressing "r" opened no reason field');
    await waitFor(
      () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'reject-reason'),
      () => 'Pressing "r" did not put the focus in the reason field',
    );
    if ((await reason.inputValue()) !== '') fail(`The "r" key was typed into the reason field ("${await reason.inputValue()}")`);
    await detail.getByTestId('reject-submit').click();
    const said = await text(detail.locator('.field-error'));
    if (!/agent sees/.test(said)) fail(`Rejecting without a reason showed no error asking for one (shows "${said}")`);
    if ((await controlOk(page, 'GET', `/approvals/${rejected}`, undefined, 'Reading the draft')).status !== 'pending') fail('A rejection without a reason was sent');
    const because = 'We do not promise refunds in public.';
    await reason.fill(because);
    await detail.getByTestId('reject-submit').click();
    await waitFor(
      async () => (await controlOk(page, 'GET', `/approvals/${rejected}`, undefined, 'Reading the draft')).status === 'rejected',
      async () => `The draft was not rejected; ${await failureText()}`,
    );
    const seen = await agentCall(token, 'GET', `/approvals/${rejected}`);
    if (seen.body?.status !== 'rejected' || seen.body?.reason !== because) fail(`The agent sees ${JSON.stringify(seen.body)} instead of the rejection and its reason`);
    if ((await channelTexts(token)).includes('We will refund everyone!')) fail('The rejected message reached Slack');
    await waitFor(async () => (await item(rejected).count()) === 0, async () => 'The rejected draft is still listed among the waiting ones');
    await waitCurrent(kept, 'After the rejection the remaining draft should be current');
    await waitBadge(1, 'after one of two drafts was rejected');
  });

  let batch = '';
  let reply = '';
  await check('bulk approval refuses a mixed set in the gateway\'s words and approves identical drafts', async () => {
    const ts = (await controlOk(page, 'GET', `/approvals/${first}`, undefined, 'Reading the sent draft')).result?.ts;
    if (typeof ts !== 'string') fail('The sent draft carries no Slack message ts');
    batch = await agentDrafts(token, 'slack_post_message', { channel: SLACK_FEEDBACK, text: 'Third note from the agent.' });
    reply = await agentDrafts(token, 'slack_reply_in_thread', { channel: SLACK_FEEDBACK, thread_ts: ts, text: 'A reply in the thread.' });
    await waitFor(
      async () => (await item(batch).count()) === 1 && (await item(reply).count()) === 1,
      async () => `The new drafts did not appear in Approvals; ${await failureText()}`,
    );
    await item(kept).getByTestId('approval-check').check();
    await item(reply).getByTestId('approval-check').check();
    await page.getByTestId('approve-selected').click();
    const refusal = page.getByTestId('approval-failure');
    await waitFor(() => refusal.isVisible(), async () => 'Bulk-approving a post and a thread reply together showed no refusal');
    const words = (await text(refusal)).replace(/\s+/g, ' ');
    if ((await refusal.getAttribute('data-code')) !== 'bad_request') fail(`The bulk refusal carries code ${await refusal.getAttribute('data-code')}: "${words}"`);
    if (!/cannot be approved in bulk/.test(words) || !/bad_request/.test(words)) fail(`The bulk refusal does not show the gateway's message and code: "${words}"`);
    for (const id of [kept, reply]) {
      if ((await controlOk(page, 'GET', `/approvals/${id}`, undefined, 'Reading a draft')).status !== 'pending') fail(`A refused bulk approval still approved ${id}`);
    }
    await item(reply).getByTestId('approval-check').uncheck();
    await item(batch).getByTestId('approval-check').check();
    await page.getByTestId('approve-selected').click();
    for (const id of [kept, batch]) {
      const done = await settled(page, id);
      if (done.status !== 'executed') fail(`Bulk-approved draft ${id} ended "${done.status}"`);
    }
    await waitBadge(1, 'after two drafts were approved together');
  });

  await check('a approves the current draft from the keyboard', async () => {
    await waitFor(
      async () => (await page.getByTestId('approval-item').count()) === 1,
      async () => `Approvals should list only the thread reply now (it lists ${await page.getByTestId('approval-item').count()})`,
    );
    await waitCurrent(reply, 'The last waiting draft should be current');
    // The drafts arrived live one after another, so the first to arrive is current: start at the top.
    await page.getByTestId('approval-open').first().click();
    await press('a');
    const done = await settled(page, reply);
    if (done.status !== 'executed') fail(`The draft approved with "a" ended "${done.status}": ${JSON.stringify(done.result)}`);
    await waitBadge(0, 'after the last draft was approved');
    await waitFor(() => page.getByTestId('approvals-empty').isVisible(), async () => 'With nothing waiting the screen does not say so');
  });

  await check('past drafts say who decided them and when', async () => {
    await page.getByTestId('approvals-filter').selectOption('all');
    await waitFor(async () => (await item(first).count()) === 1 && (await item(rejected).count()) === 1, async () => 'Showing all drafts does not list the decided ones');
    const approvedLine = await text(item(first).getByTestId('approval-item-decided'));
    if (!approvedLine.includes(`Approved with edits by ${APPROVER} (in a browser)`)) fail(`The edited draft says "${approvedLine}" about who decided`);
    await item(rejected).getByTestId('approval-open').click();
    await waitCurrent(rejected, 'Clicking the rejected draft');
    const decided = await text(detail.getByTestId('approval-decided'));
    if (!new RegExp(`^Rejected by ${APPROVER} \\(in a browser\\), \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`).test(decided)) fail(`The rejected draft says "${decided}" about who decided and when`);
    if ((await text(detail.getByTestId('approval-reason'))) !== 'We do not promise refunds in public.') fail('The rejected draft does not show its reason');
    await page.getByTestId('approvals-filter').selectOption('pending');
  });

  await injectionChecks(page, failureText, pageErrors, { token, item, detail, waitBadge, waitCurrent, press });
}

/**
 * Hostile provider texts as email drafts (plain text and HTML): each is shown in the Approvals
 * screen, and no script runs, nothing is requested from the frame, no dialog opens, and no draft,
 * grant or policy changes.
 */
async function injectionChecks(page, failureText, pageErrors, { token, item, detail, waitBadge, waitCurrent, press }) {
  const corpus = (await readFile(INJECTION_CORPUS, 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l).text);
  const dialogs = [];
  const frameRequests = [];
  const frameConsole = { count: 0 };
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  // Every request that would leave the browser passes this route: one from a draft's frame is a
  // leak (recorded and stopped). Loads the frame's policy blocks never get here; Chromium reports
  // them as failed requests with the reason "csp", counted for the log.
  const fromFrame = (r) => {
    try {
      return r.frame() !== page.mainFrame();
    } catch {
      return false;
    }
  };
  const blockedByFrame = [];
  const leakRoute = (route) => {
    if (!fromFrame(route.request())) return route.continue();
    frameRequests.push(route.request().url());
    return route.abort('blockedbyclient');
  };
  await page.route('**/*', leakRoute);
  page.on('requestfailed', (r) => {
    if (fromFrame(r) && /csp/i.test(r.failure()?.errorText ?? '')) blockedByFrame.push(r.url());
  });
  frameConsoleFilter.onFrameMessage = () => {
    frameConsole.count += 1;
  };
  await page.evaluate(() => {
    window.__pwned = false;
  });

  let ids = [];
  let before = null;
  await check(`${corpus.length} hostile texts are queued as Gmail drafts with HTML bodies`, async () => {
    if (corpus.length < 200) fail(`The injection corpus holds ${corpus.length} texts, expected at least 200`);
    const gmail = await connectGmail(page, [GMAIL_SEND]);
    await controlOk(page, 'POST', '/grants', { agent: 'feedback-bot', connection: gmail, tier: 'write' }, 'Granting Gmail write');
    before = {
      grants: await controlOk(page, 'GET', '/grants', undefined, 'Listing grants'),
      policies: await controlOk(page, 'GET', '/policies', undefined, 'Listing policies'),
    };
    for (const [i, hostile] of corpus.entries()) {
      ids.push(
        await agentDrafts(
          token,
          'gmail_send_message',
          { to: 'ada.lovelace@example.com', subject: `Corpus text ${i + 1}`, text: hostile, html: hostile },
          gmail,
        ),
      );
    }
    await waitBadge(corpus.length, `after ${corpus.length} drafts were queued`);
  });

  await check('each hostile draft renders as text and in a sandboxed frame, and no script runs', async () => {
    await waitFor(
      async () => (await page.getByTestId('approval-item').count()) === corpus.length,
      async () => `Approvals lists ${await page.getByTestId('approval-item').count()} drafts instead of ${corpus.length}; ${await failureText()}`,
      30_000,
    );
    // Walk the list from the top with "j", in the order it shows.
    const order = await page.getByTestId('approval-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-approval')));
    if ([...order].sort().join() !== [...ids].sort().join()) fail('The listed drafts are not the ones queued');
    // The drafts arrived live one after another, so the first to arrive is current: start at the top.
    await page.getByTestId('approval-open').first().click();
    for (const [n, id] of order.entries()) {
      if (n > 0) await press('j');
      await waitCurrent(id, `Walking the hostile drafts with "j" (step ${n + 1})`);
      const hostile = corpus[ids.indexOf(id)];
      const shown = await detail.evaluate((el) => {
        const frames = [...el.querySelectorAll('iframe')];
        return {
          body: el.querySelector('[data-testid="draft-text"]')?.textContent ?? null,
          frames: frames.map((f) => ({ sandbox: f.getAttribute('sandbox'), srcdoc: f.getAttribute('srcdoc') ?? '' })),
          scripts: el.querySelectorAll('script').length,
        };
      });
      if (shown.body !== hostile) fail(`Draft ${n + 1} does not show its text as plain text: shown ${JSON.stringify(shown.body)?.slice(0, 120)}`);
      if (shown.scripts !== 0) fail(`Draft ${n + 1} put a <script> element into the control panel`);
      if (shown.frames.length !== 1) fail(`Draft ${n + 1} shows its HTML in ${shown.frames.length} frames instead of one`);
      const [frame] = shown.frames;
      if (frame.sandbox !== '') fail(`Draft ${n + 1}'s frame has sandbox=${JSON.stringify(frame.sandbox)} instead of an empty sandbox attribute`);
      if (!frame.srcdoc.includes(`content="${PROVIDER_CSP}"`) || frame.srcdoc.indexOf(PROVIDER_CSP) > frame.srcdoc.indexOf(hostile)) {
        fail(`Draft ${n + 1}'s frame does not start with the strict Content-Security-Policy`);
      }
      const handle = await detail.getByTestId('provider-html').elementHandle();
      const child = await handle?.contentFrame();
      if (!child) fail(`Draft ${n + 1}'s frame has no document`);
      await child.waitForLoadState('load');
    }
    // Give anything that might have been scheduled a moment to show itself.
    await page.waitForTimeout(500);
    if (dialogs.length) fail(`A draft opened a dialog: "${dialogs[0]}"`);
    if (frameRequests.length) fail(`A draft's frame made ${frameRequests.length} requests, e.g. ${frameRequests[0]}`);
    if ((await page.evaluate(() => window.__pwned)) !== false) fail('A draft reached into the control panel (window.__pwned changed)');
    if (pageErrors.length) fail(`The control panel reported an error while showing the drafts: ${pageErrors[0]}`);
    await page.unroute('**/*', leakRoute);
    console.log(`# the drafts' frames reported ${frameConsole.count} blocked scripts or loads; ${blockedByFrame.length} loads were blocked by their policy`);
  });

  await check('after showing every hostile draft nothing was approved, granted or changed', async () => {
    const count = await controlOk(page, 'GET', '/approvals/count', undefined, 'Reading the count');
    if (count.pending !== corpus.length) fail(`${corpus.length} drafts should still wait, but ${count.pending} do`);
    const decided = (await controlOk(page, 'GET', '/approvals?status=approved', undefined, 'Listing approved drafts')).length;
    if (decided !== 0) fail(`${decided} drafts are approved and not yet sent`);
    const grants = await controlOk(page, 'GET', '/grants', undefined, 'Listing grants');
    const policies = await controlOk(page, 'GET', '/policies', undefined, 'Listing policies');
    if (JSON.stringify(grants) !== JSON.stringify(before.grants)) fail('The grants changed while the hostile drafts were shown');
    if (JSON.stringify(policies) !== JSON.stringify(before.policies)) fail('The policies changed while the hostile drafts were shown');
    // Reject them all, so the screens checked after this start from an empty queue.
    for (const id of ids) await controlOk(page, 'POST', `/approvals/${id}/reject`, { reason: 'injection corpus' }, 'Rejecting a corpus draft');
    await waitBadge(0, 'after the corpus drafts were rejected');
  });
}

/** Console messages from a draft's sandboxed frame (the frame's policy blocking things) are expected. */
const frameConsoleFilter = { onFrameMessage: () => {} };

const userDataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-browser-test-'));
let context;
let exitCode = 0;
const overall = setTimeout(() => {
  console.log(`browser test: FAIL - gave up after ${OVERALL_MS / 1000} s`);
  process.exit(1);
}, OVERALL_MS);

try {
  context = await chromium
    .launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    .catch((e) => fail(`Could not start Chromium at ${chromiumPath}: ${e.message.split('\n')[0]}`));
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const line = msg.text();
    // A draft's sandboxed frame reporting what its policy and sandbox blocked: expected, counted.
    if (msg.location().url === 'about:srcdoc' || line.includes("'about:srcdoc'")) {
      frameConsoleFilter.onFrameMessage();
      return;
    }
    // A <meta> CSP cannot carry frame-ancestors; the gateway sends it as a header instead.
    if (line.includes("'frame-ancestors'") && line.includes('<meta>')) return;
    if (line.startsWith('Refused to')) pageErrors.push(`Content-Security-Policy blocked something: ${line}`);
    console.log(`# browser console: ${line}`);
  });

  try {
    await main(page, context, pageErrors);
  } catch (error) {
    if (screenshotPath) {
      const failurePath = screenshotPath.replace(/(\.png)?$/i, '.failure.png');
      await page.screenshot({ path: failurePath }).then(
        () => console.log(`# screenshot of the failure: ${failurePath}`),
        () => {},
      );
    }
    throw error;
  }
  console.log(`browser test: PASS (${passedCount()} checks against ${origin})`);
} catch (error) {
  exitCode = 1;
  const message = error instanceof CheckFailed ? error.message : (error?.stack ?? String(error));
  console.log(`browser test: FAIL - ${message}`);
} finally {
  clearTimeout(overall);
  await context?.close().catch(() => {});
  await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
}
process.exit(exitCode);
