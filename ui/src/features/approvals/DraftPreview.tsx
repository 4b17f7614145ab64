// A draft shown as what it is. Every value the agent wrote is rendered as text (JSX text
// nodes, never innerHTML); provider HTML appears only inside a sandboxed frame.
import type { ApprovalInfo } from '../../api';
import { draftView, providerSrcdoc, type Row } from './approval-logic';

export function kindWords(kind: string): string {
  switch (kind) {
    case 'email':
      return 'Email';
    case 'chat_message':
      return 'Chat message';
    case 'crm_change':
      return 'CRM change';
    case 'invoice':
      return 'Invoice';
    case 'refund':
      return 'Refund';
    case 'credit':
      return 'Customer credit';
    case 'calendar_event':
      return 'Calendar event';
    default:
      return 'Action';
  }
}

function Rows({ rows, testId }: { rows: Row[]; testId?: string }) {
  if (rows.length === 0) return null;
  return (
    <dl class="facts facts-compact draft-rows" data-testid={testId}>
      {rows.map((r, i) => (
        <div key={`${r.label}-${i}`} class="draft-row">
          <dt>{r.label}</dt>
          <dd>{r.value === '' ? <span class="muted">empty</span> : r.value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Body({ text }: { text: string | null }) {
  if (text === null) return null;
  return (
    <div class="draft-body" data-testid="draft-text">
      {text === '' ? <span class="muted">(no text)</span> : text}
    </div>
  );
}

/**
 * Provider-bound HTML in a frame with every sandbox restriction on (`sandbox=""`: no scripts,
 * no same-origin access, no forms, no popups, no top navigation) and a policy that lets
 * nothing load except inline styles and data: images.
 */
export function ProviderHtml({ html, what }: { html: string; what: string }) {
  return (
    <figure class="provider-html">
      <figcaption class="muted">
        {what} as HTML, shown with scripts, forms and remote content turned off
      </figcaption>
      <iframe
        sandbox=""
        referrerpolicy="no-referrer"
        srcdoc={providerSrcdoc(html)}
        title={`${what} as HTML (scripts off)`}
        data-testid="provider-html"
      />
    </figure>
  );
}

export function DraftPreview({ draft }: { draft: ApprovalInfo }) {
  const view = draftView(draft);
  switch (view.kind) {
    case 'email':
      return (
        <div class="draft-preview draft-email" data-testid="draft-preview" data-kind="email">
          <dl class="email-headers" data-testid="email-headers">
            {view.headers.length === 0 && (
              <div>
                <dt>To</dt>
                <dd class="muted">the recipients of the draft</dd>
              </div>
            )}
            {view.headers.map((h) => (
              <div key={h.label}>
                <dt>{h.label}</dt>
                <dd data-testid={`email-${h.label.toLowerCase()}`}>{h.value}</dd>
              </div>
            ))}
          </dl>
          <Body text={view.text} />
          {view.html !== null && <ProviderHtml html={view.html} what="The email body" />}
          <Rows rows={view.rows} />
        </div>
      );
    case 'chat':
      return (
        <div class="draft-preview draft-chat" data-testid="draft-preview" data-kind="chat_message">
          <p class="chat-where">
            Posts in <strong data-testid="chat-channel">{view.channel ?? 'a conversation'}</strong>
            {view.thread !== null && <> as a reply in the thread of message {view.thread}</>}
          </p>
          <div class="chat-bubble">
            <p class="chat-author">
              {draft.agent} <span class="muted">as the connection's bot</span>
            </p>
            <Body text={view.text} />
          </div>
          {view.html !== null && <ProviderHtml html={view.html} what="The message" />}
          <Rows rows={view.rows} />
        </div>
      );
    case 'crm':
      return (
        <div class="draft-preview draft-crm" data-testid="draft-preview" data-kind="crm_change">
          <Rows rows={view.target} />
          {view.changes.length > 0 ? (
            <table class="change-table" data-testid="crm-changes" data-has-old={view.hasOld ? 'true' : 'false'}>
              <caption class="visually-hidden">Fields this change sets{view.hasOld ? ', with their values now' : ''}</caption>
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  {view.hasOld && <th scope="col">Now</th>}
                  <th scope="col">{view.hasOld ? 'After approval' : 'New value'}</th>
                </tr>
              </thead>
              <tbody>
                {view.changes.map((c, i) => (
                  <tr key={`${c.field}-${i}`} data-testid="crm-change" data-field={c.field}>
                    <th scope="row">{c.field}</th>
                    {view.hasOld && (
                      <td data-testid="crm-old">
                        {!c.oldKnown ? <span class="muted">unknown</span> : c.old === null || c.old === '' ? <span class="muted">not set</span> : c.old}
                      </td>
                    )}
                    <td data-testid="crm-new">
                      <span aria-hidden="true" class="muted">
                        →{' '}
                      </span>
                      {c.value === '' ? <span class="muted">empty</span> : c.value}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted">No fields change; the record above is the whole action.</p>
          )}
          {view.oldUnknown !== null && (
            <p class="muted" data-testid="crm-old-unknown">
              The values now could not be read: {view.oldUnknown}
            </p>
          )}
        </div>
      );
    case 'invoice':
      return (
        <div class="draft-preview draft-invoice" data-testid="draft-preview" data-kind="invoice">
          <Rows rows={view.rows} />
          {view.lines.length > 0 && (
            <table class="change-table" data-testid="invoice-lines">
              <caption class="visually-hidden">Invoice lines</caption>
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  <th scope="col" class="num">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {view.lines.map((l, i) => (
                  <tr key={i}>
                    <th scope="row">{l.description}</th>
                    <td class="num">{l.amount}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {view.memo !== null && (
            <p class="draft-memo">
              <span class="muted">Memo on the invoice: </span>
              {view.memo}
            </p>
          )}
        </div>
      );
    case 'money':
      return (
        <div class="draft-preview draft-money" data-testid="draft-preview" data-kind={view.verb.toLowerCase()}>
          <p class="money-amount">
            <span class="muted">{view.verb} </span>
            <strong data-testid="money-amount">{view.amount}</strong>
          </p>
          <Rows rows={view.target} />
          <Rows rows={view.rows} />
        </div>
      );
    case 'other':
      return (
        <div class="draft-preview" data-testid="draft-preview" data-kind={draft.preview.kind}>
          <Rows rows={view.rows} />
          <Body text={view.text} />
          {view.html !== null && <ProviderHtml html={view.html} what="The content" />}
        </div>
      );
  }
}
