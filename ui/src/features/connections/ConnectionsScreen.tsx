import { EmptyState } from '../../components/EmptyState';
import { ScreenHeader } from '../../components/ScreenHeader';

const CATEGORIES: ReadonlyArray<[string, string]> = [
  ['CRM', 'HubSpot, Salesforce, Pipedrive'],
  ['Email & Calendar', 'Gmail, Outlook, Google Calendar'],
  ['Communication', 'Slack, Teams, Discord'],
  ['Data', 'Airtable, Notion, Google Sheets, Snowflake'],
  ['Commerce & Finance', 'Stripe, Shopify, QuickBooks'],
  ['Support', 'Zendesk, Intercom, Freshdesk'],
];

export function ConnectionsScreen() {
  return (
    <>
      <ScreenHeader title="Connections" subtitle="The business tools your agents may work in." />
      <EmptyState title="No tools connected yet." comingSoon>
        <p>
          Connecting accounts (OAuth or API keys) arrives in a coming version; the sandbox providers will let
          you try it without an account. Secrets will live in your system keychain, never in Switchboard's
          database.
        </p>
        <p class="empty-list-title">Tool categories planned:</p>
        <dl class="plain-list">
          {CATEGORIES.map(([name, tools]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{tools}</dd>
            </div>
          ))}
        </dl>
      </EmptyState>
    </>
  );
}
