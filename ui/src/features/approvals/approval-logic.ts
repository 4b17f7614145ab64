// Pure helpers for the Approvals screen (unit-tested; no DOM, no clock reads).
import type { ApprovalInfo, ApprovalStatus, PreviewField } from '../../api';

// ---------- Status filter and words ----------

export type StatusFilter = ApprovalStatus | 'all';

export const STATUS_FILTERS: readonly { value: StatusFilter; label: string }[] = [
  { value: 'pending', label: 'Waiting for a decision' },
  { value: 'needs_confirmation', label: 'Needs your check' },
  { value: 'approved', label: 'Approved, sending' },
  { value: 'executed', label: 'Done' },
  { value: 'failed', label: 'Failed' },
  { value: 'rejected', label: 'Rejected' },
  { value: 'expired', label: 'Expired' },
  { value: 'all', label: 'All drafts' },
];

export function parseStatusFilter(value: string): StatusFilter {
  return STATUS_FILTERS.find((f) => f.value === value)?.value ?? 'pending';
}

/** The list call's status argument: null asks for every status. */
export function statusArg(filter: StatusFilter): ApprovalStatus | null {
  return filter === 'all' ? null : filter;
}

export type Tone = 'good' | 'warn' | 'bad' | 'neutral';

export function statusView(status: ApprovalStatus): { words: string; tone: Tone } {
  switch (status) {
    case 'pending':
      return { words: 'Waiting for you', tone: 'warn' };
    case 'needs_confirmation':
      return { words: 'Needs your check', tone: 'warn' };
    case 'approved':
      return { words: 'Approved, sending…', tone: 'neutral' };
    case 'executed':
      return { words: 'Done', tone: 'good' };
    case 'failed':
      return { words: 'Failed', tone: 'bad' };
    case 'rejected':
      return { words: 'Rejected', tone: 'neutral' };
    case 'expired':
      return { words: 'Expired', tone: 'neutral' };
  }
}

/** Drafts a person still has to act on. */
export function needsPerson(status: ApprovalStatus): boolean {
  return status === 'pending' || status === 'needs_confirmation';
}

/**
 * The inbox order: drafts that need a person first (a crash-left draft before new ones, as it
 * may already have reached someone), then everything else; newest first within each group.
 */
export function orderDrafts(drafts: readonly ApprovalInfo[]): ApprovalInfo[] {
  const rank = (s: ApprovalStatus) => (s === 'needs_confirmation' ? 0 : s === 'pending' ? 1 : 2);
  // A stable sort: drafts made in the same millisecond keep the gateway's order.
  return [...drafts].sort((a, b) => rank(a.status) - rank(b.status) || b.created_at_ms - a.created_at_ms);
}

export type Decision = { verb: string; by: string | null; atMs: number | null };

/** Who decided a past draft and when; null while nobody has. */
export function decisionOf(d: ApprovalInfo): Decision | null {
  switch (d.status) {
    case 'pending':
      return null;
    case 'expired':
      return { verb: d.decided_by ? 'Expired' : 'Expired with no decision', by: d.decided_by, atMs: d.decided_at_ms ?? d.expires_at_ms };
    case 'rejected':
      return { verb: 'Rejected', by: d.decided_by, atMs: d.decided_at_ms };
    default:
      return { verb: d.edited_input ? 'Approved with edits' : 'Approved', by: d.decided_by, atMs: d.decided_at_ms };
  }
}

/** `window:alex` → `alex (in the window)`; `cli:alex`, `browser`, `policy:…` read the same way. */
export function deciderWords(by: string): string {
  const [kind, ...rest] = by.split(':');
  const who = rest.join(':');
  switch (kind) {
    case 'window':
      return who ? `${who} (in the window)` : 'someone in the window';
    case 'cli':
      return who ? `${who} (command line)` : 'the command line';
    case 'browser':
      return who ? `${who} (in a browser)` : 'someone in a browser';
    default:
      return by;
  }
}

/** What the provider answered, in a line: the failure's words, or that it was accepted. */
export function resultWords(d: ApprovalInfo): string | null {
  const r = d.result as Record<string, unknown> | null | undefined;
  if (d.status === 'failed') {
    if (r && typeof r === 'object' && typeof r.message === 'string') {
      return typeof r.code === 'string' ? `${r.message} (code ${r.code})` : r.message;
    }
    return 'The tool refused it or it could not be sent.';
  }
  if (d.status === 'executed') {
    if (r && typeof r === 'object' && r.confirmed_by_person === true) return 'A person found it at the tool.';
    return 'The tool accepted it.';
  }
  return null;
}

// ---------- The draft as what it is ----------

export type Row = { label: string; value: string };
/**
 * One field a CRM draft sets. For a change to an existing record `old` is its value when the draft
 * was queued (`null`: not set) and `oldKnown` says whether it could be read; for a new record
 * there is no old value (`hasOld` false on the view).
 */
export type Change = { field: string; value: string; old: string | null; oldKnown: boolean };
export type Line = { description: string; amount: string };

export type DraftView =
  | { kind: 'email'; headers: Row[]; text: string | null; html: string | null; rows: Row[] }
  | { kind: 'chat'; channel: string | null; thread: string | null; text: string | null; html: string | null; rows: Row[] }
  | { kind: 'crm'; target: Row[]; changes: Change[]; hasOld: boolean; oldUnknown: string | null }
  | { kind: 'invoice'; rows: Row[]; lines: Line[]; memo: string | null }
  | { kind: 'money'; verb: 'Refund' | 'Credit'; amount: string; target: Row[]; rows: Row[] }
  | { kind: 'other'; rows: Row[]; text: string | null; html: string | null };

/** `in reply to` → `In reply to`. */
export function labelWords(label: string): string {
  const t = label.trim();
  return t === '' ? t : t[0]!.toUpperCase() + t.slice(1);
}

const row = (f: PreviewField): Row => ({ label: labelWords(f.label), value: f.value });
const norm = (label: string) => label.trim().toLowerCase();

/** The input that runs: the approver's edit if there is one, else the agent's. */
export function effectiveInput(d: ApprovalInfo): Record<string, unknown> {
  return d.edited_input ?? d.input ?? {};
}

function minorUnits(currency: string): number {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** `2500, "usd"` → `$25.00`; without a currency the amount stays in the smallest unit, said so. */
export function formatMoney(minor: unknown, currency: unknown): string {
  const n = typeof minor === 'number' ? minor : typeof minor === 'string' && /^\d+$/.test(minor) ? Number(minor) : NaN;
  if (!Number.isFinite(n)) return typeof minor === 'string' && minor !== '' ? minor : 'the full amount';
  if (typeof currency === 'string' && /^[A-Za-z]{3}$/.test(currency)) {
    const code = currency.toUpperCase();
    const digits = minorUnits(code);
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency: code }).format(n / 10 ** digits);
    } catch {
      // an unknown code: fall through to the plain number
    }
  }
  return `${new Intl.NumberFormat('en-US').format(n)} in the smallest currency unit (cents for USD or EUR)`;
}

const EMAIL_HEADERS = ['to', 'cc', 'bcc', 'subject'];

/** Splits a preview into what a person reads first (headers, channel, changes, amounts) and the rest. */
export function draftView(d: ApprovalInfo): DraftView {
  const p = d.preview;
  const fields = p.fields;
  const input = effectiveInput(d);
  switch (p.kind) {
    case 'email': {
      const headers: Row[] = [];
      for (const name of EMAIL_HEADERS) {
        const f = fields.find((x) => norm(x.label) === name);
        if (f && f.value !== '') headers.push(row(f));
      }
      const rows = fields.filter((f) => !EMAIL_HEADERS.includes(norm(f.label))).map(row);
      return { kind: 'email', headers, text: p.text, html: p.html, rows };
    }
    case 'chat_message': {
      const pick = (name: string) => fields.find((f) => norm(f.label) === name)?.value ?? null;
      const channel = pick('channel') ?? pick('user');
      const thread = pick('thread ts');
      const rows = fields.filter((f) => !['channel', 'user', 'thread ts'].includes(norm(f.label))).map(row);
      return { kind: 'chat', channel, thread, text: p.text, html: p.html, rows };
    }
    case 'crm_change': {
      const isId = (label: string) => /(^|\s)id$/.test(norm(label));
      const target = fields.filter((f) => isId(f.label)).map(row);
      // A change to an existing record: the gateway read the old values when it was queued.
      if (p.changes.length > 0) {
        const changes = p.changes.map((c) => ({ field: c.property, value: c.new, old: c.old, oldKnown: c.old_known }));
        return { kind: 'crm', target, changes, hasOld: true, oldUnknown: p.old_unknown };
      }
      const changes: Change[] = fields
        .filter((f) => !isId(f.label))
        .map((f) => ({ field: f.label, value: f.value.replace(/^→\s?/, ''), old: null, oldKnown: false }));
      return { kind: 'crm', target, changes, hasOld: false, oldUnknown: null };
    }
    case 'invoice': {
      const isLine = d.tool.includes('invoice_item');
      const lines: Line[] = isLine
        ? [{ description: String(input.description ?? ''), amount: formatMoney(input.amount, input.currency) }]
        : [];
      const skip = isLine ? ['description', 'amount', 'currency'] : ['description'];
      const rows = fields.filter((f) => !skip.includes(norm(f.label))).map(row);
      const memo = !isLine && typeof input.description === 'string' ? input.description : null;
      return { kind: 'invoice', rows, lines, memo };
    }
    case 'refund':
    case 'credit': {
      const verb = p.kind === 'refund' ? 'Refund' : 'Credit';
      const amount = input.amount === undefined ? 'the full amount not yet refunded' : formatMoney(input.amount, input.currency);
      const targets = ['charge id', 'payment intent id', 'customer id'];
      const target = fields.filter((f) => targets.includes(norm(f.label))).map(row);
      const rows = fields.filter((f) => !targets.includes(norm(f.label)) && !['amount', 'currency'].includes(norm(f.label))).map(row);
      return { kind: 'money', verb, amount, target, rows };
    }
    default:
      return { kind: 'other', rows: fields.map(row), text: p.text, html: p.html };
  }
}

// ---------- Provider HTML, only in a sandboxed frame ----------

/** Nothing in provider HTML may load, run or submit: only inline styles and data: images. */
export const PROVIDER_HTML_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/**
 * The `srcdoc` of the frame that shows provider HTML. The policy comes first, before any of the
 * draft's own markup, so nothing in it can load or run ahead of it (a later policy can only
 * narrow it). The frame itself carries `sandbox=""`.
 */
export function providerSrcdoc(html: string): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${PROVIDER_HTML_CSP}">` +
    '<meta name="referrer" content="no-referrer">' +
    '<style>html{color-scheme:light}body{margin:12px;font:14px/1.5 system-ui,sans-serif;color:#1c2230;background:#fff;overflow-wrap:anywhere}img{max-width:100%}</style>' +
    `</head><body>${html}</body></html>`
  );
}

// ---------- Keyboard ----------

export type Shortcut = 'next' | 'prev' | 'approve' | 'reject' | 'edit';

export type KeyInfo = {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** The focus is somewhere typing goes (input, textarea, select, contenteditable). */
  typing: boolean;
};

/** j/k move, a approves, r rejects, e edits; never while typing or with a modifier held. */
export function shortcutFor(k: KeyInfo): Shortcut | null {
  if (k.typing || k.ctrlKey || k.metaKey || k.altKey) return null;
  switch (k.key) {
    case 'j':
    case 'ArrowDown':
      return 'next';
    case 'k':
    case 'ArrowUp':
      return 'prev';
    case 'a':
      return 'approve';
    case 'r':
      return 'reject';
    case 'e':
      return 'edit';
    default:
      return null;
  }
}

export type Selection = { ids: readonly string[]; selected: string | null };

export type SelectionAction =
  | { type: 'sync'; ids: readonly string[] }
  | { type: 'move'; by: 1 | -1 }
  | { type: 'select'; id: string };

/**
 * The current draft as the list changes: moving stops at the ends; when the current draft
 * leaves the list (decided, filtered out) the one that took its place is current, so deciding
 * one after another walks down the inbox.
 */
export function selectionReducer(state: Selection, action: SelectionAction): Selection {
  switch (action.type) {
    case 'select':
      return state.ids.includes(action.id) ? { ...state, selected: action.id } : state;
    case 'move': {
      if (state.ids.length === 0) return { ...state, selected: null };
      const at = state.selected === null ? -1 : state.ids.indexOf(state.selected);
      const next = at === -1 ? (action.by === 1 ? 0 : state.ids.length - 1) : Math.min(state.ids.length - 1, Math.max(0, at + action.by));
      return { ...state, selected: state.ids[next] ?? null };
    }
    case 'sync': {
      const ids = action.ids;
      if (ids.length === 0) return { ids, selected: null };
      if (state.selected !== null && ids.includes(state.selected)) return { ids, selected: state.selected };
      const oldAt = state.selected === null ? -1 : state.ids.indexOf(state.selected);
      if (oldAt === -1) return { ids, selected: ids[0] ?? null };
      // The first draft after the old one that is still listed, else the last one.
      const after = state.ids.slice(oldAt + 1).find((id) => ids.includes(id));
      return { ids, selected: after ?? ids[ids.length - 1] ?? null };
    }
  }
}

// ---------- Editing the input ----------

export type EditField = {
  key: string;
  /** text: one line; long: several lines (bodies, messages); number; json: lists and objects. */
  kind: 'text' | 'long' | 'number' | 'boolean' | 'json';
  value: string;
};

const LONG_KEYS = new Set(['text', 'html', 'body', 'description', 'message', 'content', 'notes']);

/** Keys a person reads first, in reading order (an email's headers before its body). */
const FIELD_ORDER = ['to', 'cc', 'bcc', 'subject', 'channel', 'user', 'thread_ts', 'text', 'html'];

/** One form field per input key: the usual reading order first, then the rest as the input has them. */
export function editFields(input: Record<string, unknown>): EditField[] {
  const rank = (k: string) => {
    const at = FIELD_ORDER.indexOf(k);
    return at === -1 ? FIELD_ORDER.length : at;
  };
  const entries = Object.entries(input)
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank(a.e[0]) - rank(b.e[0]) || a.i - b.i)
    .map(({ e }) => e);
  return entries.map(([key, v]) => {
    if (typeof v === 'string') {
      return { key, kind: LONG_KEYS.has(key) || v.includes('\n') || v.length > 80 ? 'long' : 'text', value: v };
    }
    if (typeof v === 'number') return { key, kind: 'number', value: String(v) };
    if (typeof v === 'boolean') return { key, kind: 'boolean', value: String(v) };
    return { key, kind: 'json', value: JSON.stringify(v, null, 2) };
  });
}

export type EditResult = { ok: true; value: Record<string, unknown> } | { ok: false; key: string | null; message: string };

/** The whole edited input from the form; each field keeps its kind (a number stays a number). */
export function buildEdit(fields: readonly EditField[]): EditResult {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    switch (f.kind) {
      case 'text':
      case 'long':
        out[f.key] = f.value;
        break;
      case 'number': {
        const t = f.value.trim();
        const n = Number(t);
        if (t === '' || !Number.isFinite(n)) return { ok: false, key: f.key, message: `“${fieldLabel(f.key)}” must be a number.` };
        out[f.key] = n;
        break;
      }
      case 'boolean':
        out[f.key] = f.value === 'true';
        break;
      case 'json': {
        try {
          out[f.key] = JSON.parse(f.value);
        } catch (e) {
          return { ok: false, key: f.key, message: `“${fieldLabel(f.key)}” is not valid JSON: ${(e as Error).message}` };
        }
        break;
      }
    }
  }
  return { ok: true, value: out };
}

/** The whole input typed as JSON: it must be one object. */
export function parseJsonEdit(text: string): EditResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, key: null, message: `That is not valid JSON: ${(e as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { ok: false, key: null, message: 'The input must be one JSON object ({ … }), as the agent sent it.' };
  }
  return { ok: true, value: v as Record<string, unknown> };
}

/** Whether an edit changes anything (an unchanged edit is sent as a plain approval). */
export function sameInput(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/** A form label for an input key: `thread_ts` → `Thread ts`, `html` → `HTML body`. */
export function fieldLabel(key: string): string {
  if (key === 'html') return 'HTML body';
  if (key === 'text') return 'Text';
  return labelWords(key.replace(/_/g, ' '));
}

// ---------- Rejecting ----------

export const REASON_MAX = 2000;

/** The gateway takes 1–2000 characters after trimming; say what is wrong before sending. */
export function reasonProblem(reason: string): string | null {
  const t = reason.trim();
  if (t === '') return 'Say why: the agent sees the reason.';
  if ([...t].length > REASON_MAX) return `Keep the reason to ${REASON_MAX} characters or fewer.`;
  return null;
}

// ---------- Bulk ----------

/** Checked ids still shown and still waiting, in list order. */
export function bulkIds(drafts: readonly ApprovalInfo[], checked: ReadonlySet<string>): string[] {
  return drafts.filter((d) => checked.has(d.id) && d.status === 'pending').map((d) => d.id);
}

/** `3 drafts` / `1 draft`. */
export function draftsWord(n: number): string {
  return `${n} ${n === 1 ? 'draft' : 'drafts'}`;
}
