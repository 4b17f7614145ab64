import { describe, expect, it } from 'vitest';
import type { ApprovalInfo, ApprovalStatus, Preview } from '../../api';
import {
  buildEdit,
  bulkIds,
  decisionOf,
  deciderWords,
  draftView,
  editFields,
  fieldLabel,
  formatMoney,
  orderDrafts,
  parseJsonEdit,
  parseStatusFilter,
  PROVIDER_HTML_CSP,
  providerSrcdoc,
  reasonProblem,
  resultWords,
  sameInput,
  selectionReducer,
  shortcutFor,
  statusArg,
  type Selection,
} from './approval-logic';

type DraftOver = Omit<Partial<ApprovalInfo>, 'preview'> & { preview?: Partial<Preview> };

function draft(over: DraftOver = {}): ApprovalInfo {
  const { preview, ...rest } = over;
  return {
    id: 'apr_1',
    call_id: 'call_1',
    agent: 'feedback-bot',
    connection: 'conn_slack',
    tool: 'slack_post_message',
    tier: 'write',
    description: 'Post a message to a channel as the bot.',
    status: 'pending',
    rule: 'default:outbound-queues',
    input: { channel: 'C05SBXFDB1', text: 'Hello' },
    edited_input: null,
    created_at_ms: 1_000,
    expires_at_ms: 90_000_000,
    decided_by: null,
    decided_at_ms: null,
    reason: null,
    result: null,
    finished_at_ms: null,
    ...rest,
    preview: { kind: 'chat_message', title: 'Message in C05SBXFDB1', fields: [], text: null, html: null, changes: [], old_unknown: null, ...preview },
  };
}

describe('status filter', () => {
  it('defaults unknown values to the waiting drafts and asks for every status with "all"', () => {
    expect(parseStatusFilter('rejected')).toBe('rejected');
    expect(parseStatusFilter('bogus')).toBe('pending');
    expect(statusArg('all')).toBeNull();
    expect(statusArg('needs_confirmation')).toBe('needs_confirmation');
  });
});

describe('orderDrafts', () => {
  it('puts drafts that need a person first, newest first within each group', () => {
    const mk = (id: string, status: ApprovalStatus, at: number) => draft({ id, status, created_at_ms: at });
    const ordered = orderDrafts([
      mk('old-done', 'executed', 5),
      mk('new-pending', 'pending', 9),
      mk('crash', 'needs_confirmation', 1),
      mk('old-pending', 'pending', 2),
      mk('new-rejected', 'rejected', 10),
    ]);
    expect(ordered.map((d) => d.id)).toEqual(['crash', 'new-pending', 'old-pending', 'new-rejected', 'old-done']);
  });
});

describe('who decided', () => {
  it('names the decider and the time, and says when an edit was approved', () => {
    expect(decisionOf(draft())).toBeNull();
    expect(decisionOf(draft({ status: 'executed', decided_by: 'window:alex', decided_at_ms: 42, edited_input: { text: 'x' } }))).toEqual({
      verb: 'Approved with edits',
      by: 'window:alex',
      atMs: 42,
    });
    expect(decisionOf(draft({ status: 'rejected', decided_by: 'browser', decided_at_ms: 7 }))).toEqual({ verb: 'Rejected', by: 'browser', atMs: 7 });
    expect(decisionOf(draft({ status: 'expired' }))?.verb).toBe('Expired with no decision');
  });

  it('reads actor ids as people', () => {
    expect(deciderWords('window:alex')).toBe('alex (in the window)');
    expect(deciderWords('cli:sam')).toBe('sam (command line)');
    expect(deciderWords('browser')).toBe('someone in a browser');
    expect(deciderWords('policy:invoice-delivery')).toBe('policy:invoice-delivery');
  });

  it('gives the failure in the provider\'s words with its code', () => {
    expect(resultWords(draft({ status: 'failed', result: { code: 'provider_error', message: 'channel_not_found' } }))).toBe(
      'channel_not_found (code provider_error)',
    );
    expect(resultWords(draft({ status: 'executed', result: { ts: '1.2' } }))).toBe('The tool accepted it.');
    expect(resultWords(draft({ status: 'executed', result: { confirmed_by_person: true } }))).toBe('A person found it at the tool.');
    expect(resultWords(draft())).toBeNull();
  });
});

describe('draftView: each draft as what it is', () => {
  it('an email shows To, Cc and Subject as headers, then its body and the rest', () => {
    const v = draftView(
      draft({
        tool: 'gmail_send_message',
        input: { to: 'ada@example.com', subject: 'Hi', text: 'Body', html: '<p>Body</p>', thread_id: 't1', cc: 'b@example.com' },
        preview: {
          kind: 'email',
          fields: [
            { label: 'thread id', value: 't1' },
            { label: 'subject', value: 'Hi' },
            { label: 'cc', value: 'b@example.com' },
            { label: 'to', value: 'ada@example.com' },
          ],
          text: 'Body',
          html: '<p>Body</p>',
        },
      }),
    );
    expect(v).toEqual({
      kind: 'email',
      headers: [
        { label: 'To', value: 'ada@example.com' },
        { label: 'Cc', value: 'b@example.com' },
        { label: 'Subject', value: 'Hi' },
      ],
      text: 'Body',
      html: '<p>Body</p>',
      rows: [{ label: 'Thread id', value: 't1' }],
    });
  });

  it('a chat message names its channel and thread apart from the text', () => {
    const v = draftView(
      draft({
        preview: {
          kind: 'chat_message',
          fields: [
            { label: 'channel', value: 'C1' },
            { label: 'thread ts', value: '17.5' },
            { label: 'broadcast', value: 'true' },
          ],
          text: 'Thanks!',
        },
      }),
    );
    expect(v).toMatchObject({ kind: 'chat', channel: 'C1', thread: '17.5', text: 'Thanks!', rows: [{ label: 'Broadcast', value: 'true' }] });
  });

  it('a CRM change lists each field with its new value and keeps the record ids apart', () => {
    const v = draftView(
      draft({
        tool: 'hubspot_update_contact',
        preview: {
          kind: 'crm_change',
          fields: [
            { label: 'contact id', value: '901' },
            { label: 'lifecyclestage', value: '→ customer' },
            { label: 'phone', value: '→ ' },
          ],
        },
      }),
    );
    expect(v).toEqual({
      kind: 'crm',
      target: [{ label: 'Contact id', value: '901' }],
      changes: [
        { field: 'lifecyclestage', value: 'customer', old: null, oldKnown: false },
        { field: 'phone', value: '', old: null, oldKnown: false },
      ],
      hasOld: false,
      oldUnknown: null,
    });
    const stage = draftView(draft({ preview: { kind: 'crm_change', fields: [{ label: 'deal id', value: '7' }, { label: 'stage', value: 'closedwon' }] } }));
    expect(stage).toMatchObject({ changes: [{ field: 'stage', value: 'closedwon' }] });
  });

  it('a change to an existing record shows each property old → new, and says when the old value is unknown', () => {
    const v = draftView(
      draft({
        tool: 'hubspot_update_deal_stage',
        preview: {
          kind: 'crm_change',
          fields: [
            { label: 'deal id', value: '7' },
            { label: 'stage', value: 'closedwon' },
          ],
          changes: [{ property: 'dealstage', old: 'appointmentscheduled', old_known: true, new: 'closedwon' }],
        },
      }),
    );
    expect(v).toEqual({
      kind: 'crm',
      target: [{ label: 'Deal id', value: '7' }],
      changes: [{ field: 'dealstage', value: 'closedwon', old: 'appointmentscheduled', oldKnown: true }],
      hasOld: true,
      oldUnknown: null,
    });
    const unknown = draftView(
      draft({
        preview: {
          kind: 'crm_change',
          fields: [{ label: 'contact id', value: '9' }],
          changes: [{ property: 'phone', old: null, old_known: false, new: '+1 555 0100' }],
          old_unknown: 'HubSpot answered HTTP 404 when the record was read',
        },
      }),
    );
    expect(unknown).toMatchObject({ hasOld: true, oldUnknown: 'HubSpot answered HTTP 404 when the record was read', changes: [{ oldKnown: false }] });
  });

  it('an invoice line shows its description and amount in the currency', () => {
    const v = draftView(
      draft({
        tool: 'stripe_create_invoice_item',
        input: { customer_id: 'cus_1', invoice_id: 'in_1', description: 'Training day', amount: 15000, currency: 'usd' },
        preview: {
          kind: 'invoice',
          fields: [
            { label: 'customer id', value: 'cus_1' },
            { label: 'invoice id', value: 'in_1' },
            { label: 'description', value: 'Training day' },
            { label: 'amount', value: '15000' },
            { label: 'currency', value: 'usd' },
          ],
        },
      }),
    );
    expect(v).toEqual({
      kind: 'invoice',
      rows: [
        { label: 'Customer id', value: 'cus_1' },
        { label: 'Invoice id', value: 'in_1' },
      ],
      lines: [{ description: 'Training day', amount: '$150.00' }],
      memo: null,
    });
  });

  it('a refund shows its amount and the charge; an edited input is what is shown', () => {
    const v = draftView(
      draft({
        tool: 'stripe_refund',
        input: { charge_id: 'ch_1', amount: 100 },
        edited_input: { charge_id: 'ch_1', amount: 50, reason: 'duplicate' },
        preview: {
          kind: 'refund',
          fields: [
            { label: 'charge id', value: 'ch_1' },
            { label: 'amount', value: '50' },
            { label: 'reason', value: 'duplicate' },
          ],
        },
      }),
    );
    expect(v).toMatchObject({ kind: 'money', verb: 'Refund', target: [{ label: 'Charge id', value: 'ch_1' }], rows: [{ label: 'Reason', value: 'duplicate' }] });
    expect(v.kind === 'money' && v.amount).toContain('50 in the smallest currency unit');
    const full = draftView(draft({ tool: 'stripe_refund', input: { charge_id: 'ch_1' }, preview: { kind: 'refund', fields: [] } }));
    expect(full.kind === 'money' && full.amount).toBe('the full amount not yet refunded');
  });

  it('anything else is its labelled fields', () => {
    const v = draftView(draft({ preview: { kind: 'calendar_event', fields: [{ label: 'summary', value: 'Demo' }] } }));
    expect(v).toEqual({ kind: 'other', rows: [{ label: 'Summary', value: 'Demo' }], text: null, html: null });
  });
});

describe('formatMoney', () => {
  it('uses the currency\'s minor units', () => {
    expect(formatMoney(2500, 'usd')).toBe('$25.00');
    expect(formatMoney(2500, 'JPY')).toBe('¥2,500');
    expect(formatMoney('1999', 'eur')).toBe('€19.99');
  });

  it('says when the currency is unknown instead of guessing', () => {
    expect(formatMoney(100, undefined)).toBe('100 in the smallest currency unit (cents for USD or EUR)');
    expect(formatMoney(undefined, 'usd')).toBe('the full amount');
  });
});

describe('provider HTML', () => {
  it('puts the strict policy before any of the draft\'s own markup', () => {
    const hostile = '<meta http-equiv="Content-Security-Policy" content="default-src *"><script>parent.alert(1)</script>';
    const doc = providerSrcdoc(hostile);
    expect(PROVIDER_HTML_CSP).toBe("default-src 'none'; img-src data:; style-src 'unsafe-inline'");
    const policyAt = doc.indexOf(`content="${PROVIDER_HTML_CSP}"`);
    expect(policyAt).toBeGreaterThan(0);
    expect(policyAt).toBeLessThan(doc.indexOf(hostile));
  });
});

describe('keyboard', () => {
  const key = (k: string, over: Partial<Parameters<typeof shortcutFor>[0]> = {}) =>
    shortcutFor({ key: k, ctrlKey: false, metaKey: false, altKey: false, typing: false, ...over });

  it('maps j/k/a/r/e and ignores keys while typing or with a modifier', () => {
    expect(['j', 'k', 'a', 'r', 'e', 'x'].map((k) => key(k))).toEqual(['next', 'prev', 'approve', 'reject', 'edit', null]);
    expect(key('a', { typing: true })).toBeNull();
    expect(key('r', { ctrlKey: true })).toBeNull();
    expect(key('a', { metaKey: true })).toBeNull();
  });

  it('moves within the list and stops at the ends', () => {
    let s: Selection = { ids: [], selected: null };
    s = selectionReducer(s, { type: 'sync', ids: ['a', 'b', 'c'] });
    expect(s.selected).toBe('a');
    s = selectionReducer(s, { type: 'move', by: 1 });
    s = selectionReducer(s, { type: 'move', by: 1 });
    s = selectionReducer(s, { type: 'move', by: 1 });
    expect(s.selected).toBe('c');
    s = selectionReducer(s, { type: 'move', by: -1 });
    expect(s.selected).toBe('b');
    expect(selectionReducer(s, { type: 'select', id: 'zzz' }).selected).toBe('b');
    expect(selectionReducer({ ids: [], selected: null }, { type: 'move', by: 1 }).selected).toBeNull();
  });

  it('after a decision the next draft becomes current, or the last one at the end', () => {
    const s: Selection = { ids: ['a', 'b', 'c'], selected: 'b' };
    expect(selectionReducer(s, { type: 'sync', ids: ['a', 'c'] }).selected).toBe('c');
    expect(selectionReducer({ ids: ['a', 'b'], selected: 'b' }, { type: 'sync', ids: ['a'] }).selected).toBe('a');
    expect(selectionReducer(s, { type: 'sync', ids: ['c', 'b', 'new'] }).selected).toBe('b');
    expect(selectionReducer(s, { type: 'sync', ids: [] }).selected).toBeNull();
  });
});

describe('editing the input', () => {
  it('one field per key, keeping numbers numbers and lists JSON', () => {
    const input = { channel: 'C1', text: 'Hi', amount: 100, to: ['a@example.com'], broadcast: false };
    const fields = editFields(input);
    expect(fields.map((f) => [f.key, f.kind])).toEqual([
      ['to', 'json'],
      ['channel', 'text'],
      ['text', 'long'],
      ['amount', 'number'],
      ['broadcast', 'boolean'],
    ]);
    expect(buildEdit(fields)).toEqual({ ok: true, value: input });
    const edited = fields.map((f) => (f.key === 'text' ? { ...f, value: 'Edited' } : f));
    expect(buildEdit(edited)).toEqual({ ok: true, value: { ...input, text: 'Edited' } });
  });

  it('puts an email\'s headers before its body whatever order the input has', () => {
    const fields = editFields({ html: '<p>x</p>', subject: 'S', text: 'x', thread_id: 't', to: 'a@example.com' });
    expect(fields.map((f) => f.key)).toEqual(['to', 'subject', 'text', 'html', 'thread_id']);
    expect(fieldLabel('html')).toBe('HTML body');
    expect(fieldLabel('thread_ts')).toBe('Thread ts');
  });

  it('names the field that does not parse', () => {
    const bad = editFields({ amount: 1, to: ['x'] }).map((f) => ({ ...f, value: f.key === 'amount' ? 'ten' : f.value }));
    expect(buildEdit(bad)).toMatchObject({ ok: false, key: 'amount' });
    const badJson = editFields({ to: ['x'] }).map((f) => ({ ...f, value: '[' }));
    expect(buildEdit(badJson)).toMatchObject({ ok: false, key: 'to' });
  });

  it('the JSON editor takes exactly one object', () => {
    expect(parseJsonEdit('{"text":"x"}')).toEqual({ ok: true, value: { text: 'x' } });
    expect(parseJsonEdit('[1]')).toMatchObject({ ok: false });
    expect(parseJsonEdit('{oops')).toMatchObject({ ok: false });
  });

  it('an edit that changes nothing is recognised regardless of key order', () => {
    expect(sameInput({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(sameInput({ a: 1 }, { a: '1' })).toBe(false);
  });
});

describe('reject and bulk', () => {
  it('a reason is required and limited', () => {
    expect(reasonProblem('  ')).toMatch(/agent sees/);
    expect(reasonProblem('x'.repeat(2001))).toMatch(/2000/);
    expect(reasonProblem('wrong recipient')).toBeNull();
  });

  it('bulk takes the checked drafts that still wait, in list order', () => {
    const list = [draft({ id: 'a' }), draft({ id: 'b', status: 'executed' }), draft({ id: 'c' })];
    expect(bulkIds(list, new Set(['c', 'b', 'a', 'gone']))).toEqual(['a', 'c']);
  });
});
