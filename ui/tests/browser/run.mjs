#!/usr/bin/env node
// Browser test of the Switchboard UI served by a running gateway (`switchboard serve`).
//
//   SWITCHBOARD_LOGIN_URL   one-time login URL, e.g. http://127.0.0.1:PORT/login?code=...   (required;
//                           the gateway must run with --sandbox on a fresh data dir)
//   SWITCHBOARD_VERSION     version the header must show                                  (required)
//   SWITCHBOARD_SCREENSHOT  where to save a PNG of the Audit screen                        (optional)
//   SWITCHBOARD_CHROMIUM    browser binary, default /usr/bin/chromium                      (optional)
//
// Drives Debian's Chromium through playwright-core. Prints one line per check and a closing
// line; exits 0 when every check passed, 1 on the first failure, 2 on a usage error.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

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
const WAIT_MS = 15_000;
const OVERALL_MS = 120_000;

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

class CheckFailed extends Error {}
const fail = (message) => {
  throw new CheckFailed(message);
};

let passed = 0;
async function check(name, fn) {
  try {
    await fn();
  } catch (error) {
    console.log(`not ok - ${name}`);
    throw error;
  }
  passed += 1;
  console.log(`ok - ${name}`);
}

/** Polls `probe` until it returns a truthy value; otherwise fails with `message()`. */
async function waitFor(probe, message, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) fail(await message(last));
    await new Promise((r) => setTimeout(r, 100));
  }
}

const text = async (locator) => ((await locator.count()) ? (await locator.first().innerText()).trim() : '');

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

  await check('header shows the gateway running', async () => {
    await waitFor(
      async () => (await text(page.getByTestId('gateway-status'))) === 'running',
      async () => `Header shows gateway status "${await text(page.getByTestId('gateway-status'))}" instead of "running" after login; ${await failureText()}`,
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
  console.log(`browser test: PASS (${passed} checks against ${origin})`);
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
