// Shared helpers of the browser test: checks, polling, and calls to the gateway as the logged-in
// page (control API) or as an agent (agent API). Screen checks live in ./screens/*.mjs and get
// these through the context `run.mjs` hands them.
export const WAIT_MS = 15_000;
export const GMAIL_DECISION_PATH = '/o/oauth2/v2/auth/decision';
let origin = '';
/** The gateway's origin, set once by run.mjs before any check runs. */
export function setOrigin(o) {
  origin = o;
}

export class CheckFailed extends Error {}
export const fail = (message) => {
  throw new CheckFailed(message);
};

let passed = 0;
/** How many checks passed so far. */
export const passedCount = () => passed;
export async function check(name, fn) {
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
export async function waitFor(probe, message, timeoutMs = WAIT_MS) {
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

export const text = async (locator) => ((await locator.count()) ? (await locator.first().innerText()).trim() : '');


/** A control-API call made by the logged-in page (session cookie, the gateway's own Origin). */
export async function control(page, method, route, body) {
  return page.evaluate(
    async ({ method, route, body }) => {
      const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
      if (body !== undefined) {
        init.headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      const r = await fetch(`/api/control/v1${route}`, init);
      const text = await r.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: r.status, body: json };
    },
    { method, route, body },
  );
}

/** Like `control`, but any answer other than 200 fails the check with the gateway's words. */
export async function controlOk(page, method, route, body, what) {
  const { status, body: answer } = await control(page, method, route, body);
  if (status !== 200) fail(`${what}: the gateway answered ${method} ${route} with HTTP ${status}: ${JSON.stringify(answer).slice(0, 300)}`);
  return answer;
}

/** An agent's call over the agent API with its own token (from this process, as an agent would). */
export async function agentCall(token, method, route, body) {
  const r = await fetch(`${origin}/api/agent/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** The agent drafts a Slack post (or another tool call); the gateway must hold it: 202 and a draft id. */
export async function agentDrafts(token, tool, input, connection) {
  const { status, body } = await agentCall(token, 'POST', `/tools/${tool}`, { input, ...(connection ? { connection } : {}) });
  if (status !== 202 || typeof body?.approval_id !== 'string') {
    fail(`The agent's ${tool} call should wait for approval (202 with an approval id) but got HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  return body.approval_id;
}

/** Connects the simulated Gmail by signing in on its consent page, as a person in a browser would. */
export async function connectGmail(page, scopes) {
  const started = await controlOk(page, 'POST', '/connections/oauth', { provider: 'gmail-sandbox', label: 'Injection inbox', scopes, open_browser: false }, 'Starting the Gmail sign-in');
  const consent = await (await fetch(started.authorize_url)).text();
  const request = /name="request" value="([^"]+)"/.exec(consent)?.[1];
  if (!request) fail(`The simulated Gmail consent page has no request field: ${consent.slice(0, 200)}`);
  const decided = await fetch(new URL(GMAIL_DECISION_PATH, started.authorize_url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision: 'approve' }).toString(),
  });
  const back = decided.headers.get('location');
  if (!back) fail(`Approving the Gmail consent did not send the browser back (HTTP ${decided.status})`);
  const callback = await fetch(back);
  if (callback.status !== 200) fail(`The sign-in callback answered HTTP ${callback.status}: ${(await callback.text()).slice(0, 200)}`);
  const done = await controlOk(page, 'GET', `/connections/oauth/${encodeURIComponent(started.flow_id)}?wait=5`, undefined, 'Waiting for the Gmail sign-in');
  if (done.status !== 'connected') fail(`The Gmail sign-in ended "${done.status}" instead of connected: ${JSON.stringify(done).slice(0, 300)}`);
  return done.connection.id;
}

/** Waits until the gateway says the draft left `approved` (the outbox ran it), and returns it. */
export async function settled(page, id) {
  return waitFor(
    async () => {
      const d = await controlOk(page, 'GET', `/approvals/${id}`, undefined, `Reading draft ${id}`);
      return d.status !== 'pending' && d.status !== 'approved' ? d : null;
    },
    () => `Draft ${id} was never sent after it was approved`,
  );
}

/**
 * Waits until the draft editor that "e" opened has taken the focus (it focuses its first field
 * once it is on screen). Typing before that can land in whichever field gets the focus next.
 */
export async function editorFocused(page) {
  await waitFor(
    () => page.evaluate(() => document.activeElement?.closest('[data-testid="edit-form"]') != null),
    async () => 'The draft editor never took the keyboard focus after "e"',
  );
}
