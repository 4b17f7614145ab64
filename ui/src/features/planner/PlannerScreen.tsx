import { EmptyState } from '../../components/EmptyState';
import { ScreenHeader } from '../../components/ScreenHeader';

const WORKFLOWS = ['Lead follow-up', 'Inbox triage', 'Support triage', 'Collections', 'Feedback routing'];

export function PlannerScreen() {
  return (
    <>
      <ScreenHeader title="Planner" subtitle="Start from the workflow that hurts most." />
      <EmptyState title="No rollout plan yet." comingSoon>
        <p>
          Name your highest-pain workflow and the planner will show the two or three integrations it needs,
          the minimal scopes, and walk you through connecting them.
        </p>
        <p class="empty-list-title">Workflows it will cover first:</p>
        <ul class="tag-list">
          {WORKFLOWS.map((w) => (
            <li key={w} class="tag">
              {w}
            </li>
          ))}
        </ul>
        <p>The rollout planner arrives in a coming version.</p>
      </EmptyState>
    </>
  );
}
