import { EmptyState } from '../../components/EmptyState';
import { ScreenHeader } from '../../components/ScreenHeader';

export function ScopesScreen() {
  return (
    <>
      <ScreenHeader title="Scopes" subtitle="What each agent may do, per connection: read, write or delete." />
      <EmptyState title="No scopes to review yet." comingSoon>
        <p>
          Once tools are connected, this checklist will show each provider scope in plain words, which actions
          need it, and which granted scopes went unused. Every agent starts with nothing; read, write and
          delete are granted separately and no tier implies another.
        </p>
        <p>Granting scopes from this window arrives in a coming version.</p>
      </EmptyState>
    </>
  );
}
