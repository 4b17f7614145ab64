#!/usr/bin/env node
// Window test: drives the real Switchboard desktop window (Tauri + WebKitGTK) through
// tauri-driver and WebKitWebDriver, speaking the W3C WebDriver HTTP API with plain fetch.
//
//   SWITCHBOARD_DESKTOP_BIN  absolute path of the built switchboard-desktop binary   (required)
//   SWITCHBOARD_DATA_DIR     a fresh data dir for this run (passed as --data-dir)      (required)
//   SWITCHBOARD_VERSION      the version the header must show                         (required)
//   SWITCHBOARD_SCREENSHOT   where to save a PNG of the window                         (optional)
//   SWITCHBOARD_CLI_BIN      the `switchboard` command for the same data dir            (optional;
//                            default: `switchboard` beside the desktop binary)
//   TAURI_DRIVER_URL         default http://127.0.0.1:4444                             (optional)
//
// The app runs with --sandbox. The Approvals path sets up a simulated Slack connection, an agent
// and its grant with the `switchboard` command (which talks to the window's gateway), has the
// agent post through the gateway's HTTP agent API (a draft), approves it in the window and sees
// the navigation's count drop.
//
// The caller starts Xvfb (DISPLAY), a D-Bus session with an unlocked keyring, and tauri-driver
// (src-tauri/tests/run-window-test.sh does all of it). Prints one line per check and closes with
// `window test: N passed, M failed`; exits 0 only when every check passed, 2 on a usage error.
import { execFile } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const bin = process.env.SWITCHBOARD_DESKTOP_BIN ?? '';
const dataDir = process.env.SWITCHBOARD_DATA_DIR ?? '';
const version = process.env.SWITCHBOARD_VERSION ?? '';
const screenshotPath = process.env.SWITCHBOARD_SCREENSHOT || null;
const driver = (process.env.TAURI_DRIVER_URL || 'http://127.0.0.1:4444').replace(/\/+$/, '');
const cliBin = process.env.SWITCHBOARD_CLI_BIN || path.join(path.dirname(bin), 'switchboard');
// The simulated Slack's documented bot token and its #customer-feedback channel (crates/sandbox).
const SLACK_BOT_TOKEN = 'slack-sandbox-bot-token-not-real-0001';
const SLACK_FEEDBACK = 'C05SBXFDB1';

const WAIT_MS = 30_000;
const SESSION_MS = 90_000;
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

if (!path.isAbsolute(bin) || !path.isAbsolute(dataDir) || !version) {
  console.error(
    'usage: SWITCHBOARD_DESKTOP_BIN=/abs/switchboard-desktop SWITCHBOARD_DATA_DIR=/abs/dir SWITCHBOARD_VERSION=X.Y.Z ' +
      '[SWITCHBOARD_SCREENSHOT=out.png] [TAURI_DRIVER_URL=http://127.0.0.1:4444] node window.mjs',
  );
  console.error('window test: USAGE ERROR (the binary and data dir must be absolute paths, the version set)');
  process.exit(2);
}

class CheckFailed extends Error {}
const fail = (message) => {
  throw new CheckFailed(message);
};

/** One WebDriver call; returns `value` or throws with the driver's error message. */
async function wd(method, route, body, timeoutMs = WAIT_MS) {
  let response;
  try {
    response = await fetch(`${driver}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Error(`tauri-driver at ${driver} did not answer ${method} ${route}: ${error.message}`);
  }
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`tauri-driver answered ${method} ${route} with HTTP ${response.status} and no JSON: ${text.slice(0, 300)}`);
  }
  if (!response.ok || (json.value && json.value.error)) {
    const v = json.value ?? {};
    throw new Error(`${method} ${route} failed: ${v.error ?? response.status}: ${v.message ?? text.slice(0, 300)}`);
  }
  return json.value;
}

let session = null;
const s = (route) => `/session/${session}${route}`;
const css = (testId) => `[data-testid="${testId}"]`;

async function findAll(selector) {
  const found = await wd('POST', s('/elements'), { using: 'css selector', value: selector });
  return found.map((e) => e[ELEMENT]);
}
async function find(selector) {
  const [first] = await findAll(selector);
  return first ?? null;
}
async function textOf(selector) {
  const id = await find(selector);
  return id ? String(await wd('GET', s(`/element/${id}/text`))).trim() : null;
}
async function attrOf(selector, name) {
  const id = await find(selector);
  return id ? await wd('GET', s(`/element/${id}/attribute/${name}`)) : null;
}
async function click(selector, what) {
  const id = await waitFor(() => find(selector), () => `${what} is not on screen (${selector})`);
  await wd('POST', s(`/element/${id}/click`), {});
}

/** Polls `probe` until it returns a truthy value; otherwise fails with `message(last)`. */
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
    await new Promise((r) => setTimeout(r, 200));
  }
}

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
    return true;
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}`);
    console.log(`  ${error instanceof CheckFailed ? error.message : error.stack ?? error}`);
    return false;
  }
}

async function main() {
  const opened = await check('the Switchboard window opens under WebDriver', async () => {
    const created = await wd(
      'POST',
      '/session',
      {
        capabilities: {
          alwaysMatch: {
            // tauri-driver turns this into webkitgtk:browserOptions {binary, args} for WebKitWebDriver.
            'tauri:options': { application: bin, args: ['--data-dir', dataDir, '--sandbox'] },
          },
        },
      },
      SESSION_MS,
    );
    session = created.sessionId;
    if (!session) fail(`the driver created no session: ${JSON.stringify(created).slice(0, 300)}`);
  });
  if (!opened) return;

  const running = await check('the header says the gateway is running', async () => {
    await waitFor(
      async () => (await textOf(css('gateway-status'))) === 'running',
      async () =>
        `after ${WAIT_MS / 1000} s the gateway status reads "${await textOf(css('gateway-status')).catch(() => '?')}" ` +
        `(title: ${await attrOf('.status-pill', 'title').catch(() => '?')}), expected "running": the window cannot reach its in-process gateway`,
    );
  });

  if (running) {
    await check(`the header shows version ${version}`, async () => {
      const shown = await waitFor(() => textOf(css('gateway-version')), () => 'the header shows no gateway version');
      if (!shown.includes(version)) fail(`the header shows version "${shown}", expected it to contain "${version}"`);
    });
  }

  await check('the pause switch in the header pauses every agent and resumes them', async () => {
    await waitFor(async () => (await attrOf(css('pause-switch'), 'aria-pressed')) === 'false', () => 'the header shows no pause switch in the off position');
    await click(css('pause-switch'), 'the pause switch');
    await waitFor(async () => (await attrOf(css('pause-switch'), 'aria-pressed')) === 'true', () => 'clicking the pause switch did not pause the agents');
    await click(css('pause-switch'), 'the pause switch');
    await waitFor(async () => (await attrOf(css('pause-switch'), 'aria-pressed')) === 'false', () => 'clicking it again did not resume them');
  });

  await check('the Audit screen lists the gateway start', async () => {
    await click(css('nav-audit'), 'the Audit entry of the navigation');
    await waitFor(
      async () => (await textOf(css('screen-title'))) === 'Audit log',
      async () => `clicking Audit did not open the Audit screen (title reads "${await textOf(css('screen-title'))}")`,
    );
    const rows = await waitFor(
      async () => (await findAll(css('audit-row'))).length,
      async () =>
        `the Audit screen shows no rows (empty state: "${await textOf(css('audit-empty'))}", error: "${await textOf('[role="alert"]')}"); ` +
        'the gateway audits its own start, so at least one row must be there',
    );
    const actions = [];
    for (const id of await findAll(`${css('audit-row')}`)) actions.push(await wd('GET', s(`/element/${id}/attribute/data-action`)));
    if (!actions.includes('gateway.start')) fail(`the ${rows} audit rows shown (${actions.join(', ')}) do not include gateway.start`);
  });

  await check('Verify chain reports the audit log intact', async () => {
    await click(css('verify-button'), 'the Verify chain button');
    const state = await waitFor(
      () => attrOf(css('verify-result'), 'data-state'),
      () => 'clicking Verify chain showed no result',
    );
    const said = await textOf(css('verify-result'));
    if (state !== 'intact') fail(`Verify chain says the log is not intact: "${said}" (state ${state})`);
    if (!/intact/i.test(said)) fail(`the verify result does not say "intact": "${said}"`);
  });

  await approvalsChecks();

  if (screenshotPath) {
    await check(`a screenshot of the window is saved to ${screenshotPath}`, async () => {
      await click(css('nav-audit'), 'the Audit entry of the navigation');
      await waitFor(
        async () => (await textOf(css('screen-title'))) === 'Audit log',
        async () => `clicking Audit did not open the Audit screen (title reads "${await textOf(css('screen-title'))}")`,
      );
      // WebKit's screenshot is its last painted frame, which can trail the DOM under Xvfb:
      // wait for two rendering updates first.
      await wd('POST', s('/execute/async'), {
        script: 'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
        args: [],
      });
      const png = Buffer.from(await wd('GET', s('/screenshot')), 'base64');
      if (png.length < 1000 || png.subarray(1, 4).toString() !== 'PNG') fail(`the driver returned no PNG (${png.length} bytes)`);
      await mkdir(path.dirname(path.resolve(screenshotPath)), { recursive: true });
      await writeFile(screenshotPath, png);
    });
  }
}

/** `switchboard --data-dir DIR --json ARGS…` (stdin: `input`), decoded; fails with its words. */
function cli(args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(cliBin, ['--data-dir', dataDir, '--json', ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new CheckFailed(`switchboard ${args.join(' ')} failed (${error.code ?? error.signal}): ${(stderr || stdout).trim().slice(0, 300)}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new CheckFailed(`switchboard ${args.join(' ')} printed no JSON: ${stdout.slice(0, 200)}`));
      }
    });
    child.stdin.end(input ?? '');
  });
}

async function approvalsChecks() {
  let draft = '';
  const count = () => attrOf(css('nav-approvals-count'), 'data-count');
  const drafted = await check("an agent's Slack post through the gateway's HTTP API waits as a draft, counted in the navigation", async () => {
    try {
      await access(cliBin);
    } catch {
      fail(`the switchboard command is not at ${cliBin} (build it with cargo build -p switchboard-cli, or set SWITCHBOARD_CLI_BIN)`);
    }
    const status = await cli(['status']);
    const conn = await cli(
      ['connections', 'add', 'slack-sandbox', '--api-key-stdin', '--label', 'Window Slack', '--scope', 'channels:read', '--scope', 'chat:write'],
      SLACK_BOT_TOKEN,
    );
    const agent = await cli(['agents', 'add', 'window-bot']);
    await cli(['grants', 'set', 'window-bot', conn.id, 'write']);
    const response = await fetch(`${status.url}/api/agent/v1/tools/slack_post_message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { channel: SLACK_FEEDBACK, text: 'Posted once a person in the window approves it.' } }),
    });
    const body = await response.json().catch(() => null);
    if (response.status !== 202 || typeof body?.approval_id !== 'string') {
      fail(`the agent's post should wait for approval (202 with an approval id) but got HTTP ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    }
    draft = body.approval_id;
    await waitFor(
      async () => (await count()) === '1',
      async () => `the navigation's approvals count shows ${await count()} instead of 1 with one draft waiting`,
    );
  });
  if (!drafted) return;

  await check('approving the draft in the window sends it, records the OS user and the count drops', async () => {
    await click(css('nav-approvals'), 'the Approvals entry of the navigation');
    await waitFor(
      async () => (await attrOf(css('approval-detail'), 'data-approval')) === draft,
      async () => `the Approvals screen does not show draft ${draft} (error: "${await textOf('[role="alert"]')}")`,
    );
    const shown = await textOf(css('draft-text'));
    if (shown !== 'Posted once a person in the window approves it.') fail(`the draft shows "${shown}" instead of the agent's message`);
    await click(css('approve-button'), 'the Approve button');
    const settled = await waitFor(
      async () => {
        const d = await cli(['approvals', 'show', draft]);
        return d.status !== 'pending' && d.status !== 'approved' ? d : null;
      },
      () => `draft ${draft} was not sent after Approve was clicked`,
    );
    if (settled.status !== 'executed') fail(`the approved draft ended "${settled.status}": ${JSON.stringify(settled.result)}`);
    const user = process.env.USER || process.env.USERNAME || '';
    const expected = user ? `window:${user}` : 'window';
    if (settled.decided_by !== expected) fail(`the approval names "${settled.decided_by}" as the approver instead of the OS user (${expected})`);
    await waitFor(
      async () => (await count()) === '0',
      async () => `the navigation's approvals count shows ${await count()} instead of 0 after the only draft was approved`,
    );
    await waitFor(
      async () => (await attrOf(`[data-testid="recent-decision"][data-approval="${draft}"]`, 'data-status')) === 'executed',
      async () => `the window does not say the approved draft was sent (it says "${await textOf(css('recent-decision'))}")`,
    );
  });
}

try {
  await main();
} catch (error) {
  failed += 1;
  console.log(`not ok - the test itself failed: ${error.stack ?? error}`);
} finally {
  if (session) {
    try {
      await wd('DELETE', `/session/${session}`);
    } catch (error) {
      console.log(`# could not close the WebDriver session: ${error.message}`);
    }
  }
}
console.log(`window test: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
