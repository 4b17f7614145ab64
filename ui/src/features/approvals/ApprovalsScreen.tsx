import { EmptyState } from '../../components/EmptyState';
import { ScreenHeader } from '../../components/ScreenHeader';

export function ApprovalsScreen() {
  return (
    <>
      <ScreenHeader title="Approvals" subtitle="Drafts agents prepared, waiting for a person." />
      <EmptyState title="Nothing waiting for approval." comingSoon>
        <p>
          Outbound and destructive actions (sending an email, posting a message, updating a deal, creating an
          invoice, issuing a refund) will wait here as drafts: full preview, edit before approving, reject with
          a reason. Approved actions run exactly once.
        </p>
        <p>The approval queue arrives in a coming version.</p>
      </EmptyState>
    </>
  );
}
