import { EmptyState } from '../../components/EmptyState';
import { ScreenHeader } from '../../components/ScreenHeader';

export function AgentsScreen() {
  return (
    <>
      <ScreenHeader title="Agents" subtitle="The AI agents and scripts that call Switchboard." />
      <EmptyState title="No agents registered yet." comingSoon>
        <p>
          Each agent will get its own token and grants, and reach Switchboard over MCP (Streamable HTTP on
          this machine, or stdio) or a small local REST API. It will only see the tools it may call. The
          "Pause all agents" switch in the header already stops every agent at once.
        </p>
        <p>Managing agents from this window arrives in a coming version.</p>
      </EmptyState>
    </>
  );
}
