// Audit and live updates: a draft and its approval through the control API show up in Approvals
// without a reload (the live event stream, well inside the 30 s fallback refresh); the timeline's
// filters narrow rows; the causal chain of a sent draft shows its steps, reached from the decided
// draft and from an audit row; the export downloads a JSONL file whose rows chain and count as
// the verified log does.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The simulated Slack's documented bot token and its #customer-feedback channel (crates/sandbox).
const SLACK_BOT_TOKEN = 'slack-sandbox-bot-token-not-real-0001';
const SLACK_FEEDBACK = 'C05SBXFDB1';
/** Live changes must land well before the fallback refresh (30 s) could have shown them. */
const LIVE_MS = 8_000;

export default async function audit(t) {
  const { page, check, waitFor, fail, text, controlOk, agentDrafts, agentCall, failureText, settled, shot } = t;
  const nav = (label) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
  const item = (id) => page.locator(`[data-testid="approval-item"][data-approval="${id}"]`);
  const rows = page.getByTestId('audit-row');
  const list = page.getByTestId('audit-list');
  const settledList = () =>
    waitFor(
      async () => (await list.getAttribute('aria-busy')) === 'false',
      async () => `The Audit list never settled; ${await failureText()}`,
    );

  let token = '';
  let slack = '';
  let draft = '';

  await check('a draft and its approval through the control API show in Approvals without a reload', async () => {
    const conn = await controlOk(page, 'POST', '/connections', { provider: 'slack-sandbox', label: 'Audit Slack', api_key: SLACK_BOT_TOKEN }, 'Connecting the simulated Slack');
    slack = conn.id;
    await controlOk(page, 'PUT', `/connections/${slack}/scopes`, { scopes: ['channels:read', 'channels:history', 'chat:write'] }, 'Ticking the Slack scopes');
    token = (await controlOk(page, 'POST', '/agents', { name: 'audit-bot' }, 'Adding the agent')).token;
    for (const tier of ['read', 'write']) {
      await controlOk(page, 'POST', '/grants', { agent: 'audit-bot', connection: slack, tier }, `Granting ${tier}`);
    }
    await nav('Approvals');
    await page.getByTestId('approvals-filter').selectOption('pending');
    await page.evaluate(() => {
      window.__stillTheSamePage = true;
    });
    draft = await agentDrafts(token, 'slack_post_message', { channel: SLACK_FEEDBACK, text: 'Audit trail check: the export fix ships Friday.' });
    await waitFor(
      async () => (await item(draft).count()) === 1,
      async () => `The agent's new draft did not appear in Approvals within ${LIVE_MS / 1000} s without a reload; ${await failureText()}`,
      LIVE_MS,
    );
    await controlOk(page, 'POST', `/approvals/${draft}/approve`, {}, 'Approving the draft through the control API');
    await waitFor(
      async () => (await item(draft).count()) === 0,
      async () => `The draft approved through the control API still shows as waiting after ${LIVE_MS / 1000} s; ${await failureText()}`,
      LIVE_MS,
    );
    if (!(await page.evaluate(() => window.__stillTheSamePage === true))) fail('The Approvals screen reloaded the page to show the changes');
    const sent = await settled(page, draft);
    if (sent.status !== 'executed') fail(`The approved draft ended "${sent.status}" instead of executed`);
  });

  await check('the causal chain of a sent draft shows trigger, decision, approval, provider call and result', async () => {
    await page.getByTestId('approvals-filter').selectOption('executed');
    await waitFor(async () => (await item(draft).count()) === 1, async () => `The sent draft is not listed under Done; ${await failureText()}`);
    await item(draft).getByTestId('approval-open').click();
    const link = page.getByTestId('approval-chain-link');
    await waitFor(() => link.isVisible(), async () => `The decided draft offers no way to its causal chain; ${await failureText()}`);
    await link.click();
    const chain = page.getByTestId('audit-chain');
    await waitFor(() => chain.isVisible(), async () => `"See what happened" did not open the causal chain on Audit; ${await failureText()}`);
    const steps = chain.getByTestId('chain-step');
    const want = ['trigger', 'decision', 'approval', 'provider_call', 'result'];
    const stages = await waitFor(
      async () => {
        const got = await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
        return want.every((s, i) => got[i] === s) ? got : null;
      },
      async () => `The chain shows the steps ${JSON.stringify(await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-stage'))))}, expected ${want.join(' → ')}`,
    );
    if (stages.length !== want.length) fail(`The chain of one sent draft should have ${want.length} steps, shows ${stages.length}`);
    const approval = await text(chain.locator('[data-stage="approval"]'));
    if (!/Approved as drafted by browser/.test(approval)) fail(`The approval step should say who approved it: "${approval}"`);
    const verified = chain.getByTestId('chain-verify');
    await waitFor(async () => (await verified.getAttribute('data-state')) === 'intact', async () => `The chain's verification says "${await text(verified)}"`);
    await shot('audit-chain');
    await chain.getByRole('button', { name: 'Close the causal chain' }).click();
  });

  await check('the timeline filters narrow rows to one agent, tier and outcome', async () => {
    await nav('Audit');
    await settledList();
    const all = await rows.count();
    await page.getByTestId('audit-agent').fill('audit-bot');
    await settledList();
    await waitFor(async () => (await rows.count()) > 0 && (await rows.count()) < all, async () => `Filtering by agent audit-bot left ${await rows.count()} of ${all} rows`);
    const actors = await rows.evaluateAll((els) => els.map((e) => e.innerText));
    if (!actors.every((r) => r.includes('audit-bot'))) fail(`Filtering by agent audit-bot shows rows of other actors: ${actors.slice(0, 3).join(' | ')}`);
    await page.getByTestId('audit-tier').selectOption('write');
    await page.getByTestId('audit-outcome').fill('pending_approval');
    await settledList();
    await waitFor(async () => (await rows.count()) === 1, async () => `Agent + write + pending_approval should leave the one held draft, shows ${await rows.count()} rows`);
    await page.getByTestId('audit-range').selectOption('1h');
    await settledList();
    if ((await rows.count()) !== 1) fail('The draft made minutes ago should be within the last hour');
    await page.getByTestId('audit-outcome').fill('');
    await page.getByTestId('audit-tier').selectOption('');
    await settledList();
    await shot('audit');
  });

  await check('new audit rows appear without a reload, and a row leads to its causal chain', async () => {
    const before = await rows.count();
    const read = await agentCall(token, 'POST', '/tools/slack_list_channels', { input: {} });
    if (read.status !== 200) fail(`The agent's read call failed: HTTP ${read.status} ${JSON.stringify(read.body).slice(0, 200)}`);
    await waitFor(
      async () => (await rows.count()) > before,
      async () => `The agent's new call did not appear on Audit within ${LIVE_MS / 1000} s without a reload`,
      LIVE_MS,
    );
    await page.locator('[data-testid="audit-row"][data-action="slack.post_message"]').first().getByTestId('audit-row-action').click();
    await page.getByTestId('audit-show-chain').click();
    const chain = page.getByTestId('audit-chain');
    await waitFor(async () => (await chain.getByTestId('chain-step').count()) >= 4, async () => `The row's "Show what happened" did not draw its chain; ${await failureText()}`);
    await chain.getByRole('button', { name: 'Close the causal chain' }).click();
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await settledList();
  });

  await check('the export downloads a JSONL file whose rows chain and match the verified count', async () => {
    const before = (await controlOk(page, 'POST', '/audit/verify', undefined, 'Verifying the audit chain')).rows;
    await page.getByTestId('audit-export-format').selectOption('jsonl');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.getByTestId('audit-export-button').click()]);
    const file = path.join(tmpdir(), `sb-audit-${process.pid}.jsonl`);
    await download.saveAs(file);
    if (!/^switchboard-audit-\d{8}-\d{6}\.jsonl$/.test(download.suggestedFilename())) fail(`The export's file name is "${download.suggestedFilename()}"`);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
    const exported = lines.map((l, i) => {
      try {
        return JSON.parse(l);
      } catch {
        return fail(`Line ${i + 1} of the export is not JSON: ${l.slice(0, 100)}`);
      }
    });
    if (exported.length < before) fail(`The export holds ${exported.length} rows but the verified log had ${before}`);
    exported.forEach((r, i) => {
      if (r.id !== i + 1) fail(`Export row ${i + 1} has id ${r.id}: rows are missing or out of order`);
      if (i > 0 && r.prev_hash !== exported[i - 1].hash) fail(`Export row ${r.id} does not chain to row ${r.id - 1}`);
    });
    const after = (await controlOk(page, 'POST', '/audit/verify', undefined, 'Verifying the audit chain')).rows;
    if (exported.length > after) fail(`The export holds ${exported.length} rows, more than the ${after} the log verifies`);
    const done = page.getByTestId('audit-export-done');
    await waitFor(() => done.isVisible(), async () => `The export did not say it finished; ${await failureText()}`);
    if (Number(await done.getAttribute('data-rows')) !== exported.length) {
      fail(`The export says "${await text(done)}" but the file holds ${exported.length} rows`);
    }
  });
}
