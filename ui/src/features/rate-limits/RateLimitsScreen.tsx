import { EmptyState } from '../../components/EmptyState';
import { ScreenHeader } from '../../components/ScreenHeader';

export function RateLimitsScreen() {
  return (
    <>
      <ScreenHeader title="Rate limits" subtitle="One budget per provider account, shared by all agents." />
      <EmptyState title="No budgets to show yet." comingSoon>
        <p>
          Each connected account will get a budget paced below the provider's documented limit. This screen
          will show, live, the budget left, queued calls and recent 429 answers for every connection.
        </p>
        <p>Live rate-limit status arrives in a coming version, together with connections.</p>
      </EmptyState>
    </>
  );
}
