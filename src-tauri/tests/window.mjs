#!/usr/bin/env node
// Window test: drives the real Switchboard desktop window (Tauri + WebKitGTK) through
// tauri-driver and WebKitWebDriver, speaking the W3C WebDriver HTTP API with plain fetch.
//
//   SWITCHBOARD_DESKTOP_BIN  absolute path of the built switchboard-desktop binary   (required)
//   SWITCHBOARD_DATA_DIR     a fresh data dir for this run (passed as --data-dir)      (required)
//   SWITCHBOARD_VERSION      the version the header must show                         (required)
//   SWITCHBOARD_SCREENSHOT   where to save a PNG of the window                         (optional)
//   TAURI_DRIVER_URL         default http://127.0.0.1:4444                             (optional)
//
// The caller starts Xvfb (DISPLAY), a D-Bus session with an unlocked keyring, and tauri-driver
// (src-tauri/tests/run-window-test.sh does all of it). Prints one line per check and closes with
// `window test: N passed, M failed`; exits 0 only when every check passed, 2 on a usage error.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const bin = process.env.SWITCHBOARD_DESKTOP_BIN ?? '';
const dataDir = process.env.SWITCHBOARD_DATA_DIR ?? '';
const version = process.env.SWITCHBOARD_VERSION ?? '';
const screenshotPath = process.env.SWITCHBOARD_SCREENSHOT || null;
const driver = (process.env.TAURI_DRIVER_URL || 'http://127.0.0.1:4444').replace(/\/+$/, '');

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
            'tauri:options': { application: bin, args: ['--data-dir', dataDir] },
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

  if (screenshotPath) {
    await check(`a screenshot of the window is saved to ${screenshotPath}`, async () => {
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
