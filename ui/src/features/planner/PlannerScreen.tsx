import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ApiFailure, type IntegrationPlan, type PlannerReport, type WorkflowPlan } from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { integrationSteps, nextStep, progressWords } from './planner-logic';

/** Steps done elsewhere (a connection made, a grant ticked, an agent's first call) show within this. */
const POLL_MS = 5_000;

export function PlannerScreen() {
  const [report, setReport] = useState<PlannerReport | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const seq = useRef(0);

  const reload = useCallback(() => {
    const mine = ++seq.current;
    api.planner().then(
      (r) => {
        if (mine !== seq.current) return;
        setReport(r);
        setFailure(null);
      },
      (reason: unknown) => {
        if (mine === seq.current) setFailure(toFailure(reason));
      },
    );
  }, []);

  useEffect(() => {
    reload();
    const timer = window.setInterval(reload, POLL_MS);
    window.addEventListener('focus', reload);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener('focus', reload);
    };
  }, [reload]);

  const workflow = report?.workflows.find((w) => w.id === picked) ?? null;

  return (
    <>
      <ScreenHeader title="Planner" subtitle="Start from the workflow that costs you the most time. We show what it needs and walk you through it." />
      {failure && <FailureNotice failure={failure} onRetry={reload} testId="planner-failure" />}
      {report === null && !failure && <p class="muted">Loading the workflows…</p>}
      {report && (
        <div class="planner-layout">
          <fieldset class="workflow-pick card" data-testid="workflow-pick">
            <legend class="card-title">Which workflow hurts most?</legend>
            {report.workflows.map((w) => {
              const p = progressWords(w);
              return (
                <label key={w.id} class={w.id === picked ? 'workflow-option active' : 'workflow-option'} data-testid="workflow-option" data-workflow={w.id}>
                  <input type="radio" name="workflow" value={w.id} checked={w.id === picked} onChange={() => setPicked(w.id)} />
                  <span>
                    <span class="workflow-name">{w.name}</span>
                    <span class="muted workflow-state">
                      {!w.can_connect ? 'part of it cannot be connected yet' : w.done ? 'ready' : `${p.done} of ${p.total} steps done`}
                    </span>
                  </span>
                </label>
              );
            })}
          </fieldset>
          {workflow ? (
            <WorkflowDetail workflow={workflow} />
          ) : (
            <p class="muted planner-hint" data-testid="planner-hint">
              Pick a workflow to see the two or three tools it needs, the smallest set of permissions for each, and the steps
              to get it running.
            </p>
          )}
        </div>
      )}
    </>
  );
}

function WorkflowDetail({ workflow }: { workflow: WorkflowPlan }) {
  const next = nextStep(workflow);
  return (
    <section class="workflow-detail" data-testid="workflow-detail" data-workflow={workflow.id} aria-labelledby="workflow-title">
      <h2 id="workflow-title">{workflow.name}</h2>
      <p>{workflow.description}</p>
      {!workflow.can_connect && (
        <div class="notice notice-warn" role="status" data-testid="workflow-blocked">
          <div>
            <p class="notice-title">Part of this workflow cannot be connected yet.</p>
            <p class="notice-hint">
              Switchboard cannot connect{' '}
              {workflow.integrations
                .filter((i) => !i.can_connect)
                .map((i) => i.name)
                .join(' or ')}{' '}
              yet. You can still prepare the other tools below.
            </p>
          </div>
        </div>
      )}
      {workflow.done && (
        <div class="notice notice-good" role="status" data-testid="workflow-done">
          <p class="notice-title">Everything is in place: your agent has used every tool this workflow needs.</p>
        </div>
      )}
      {workflow.integrations.map((i) => (
        <IntegrationCard key={i.provider} integration={i} next={next !== null && next.provider === i.provider ? next.step : null} />
      ))}
    </section>
  );
}

function IntegrationCard({ integration: i, next }: { integration: IntegrationPlan; next: string | null }) {
  const steps = integrationSteps(i);
  return (
    <article class="card integration-card" data-testid="integration" data-provider={i.provider} data-can-connect={i.can_connect}>
      <h3 class="card-title">
        {i.name}
        {!i.can_connect && (
          <span class="pill tone-text-warn" data-testid="cannot-connect">
            cannot be connected yet
          </span>
        )}
      </h3>
      <div class="integration-body">
        <p>{i.role}</p>
        <p class="field-hint">Smallest set of permissions:</p>
        <ul class="scope-list planner-scopes">
          {i.scopes.map((s) => (
            <li key={s.scope} data-testid="planned-scope" data-held={s.held}>
              <span class={`pill tier-${s.tier}`}>{s.tier}</span> <code class="scope-code">{s.scope}</code>
              {s.description !== '' && <span class="muted"> — {s.description}</span>}
              {s.held && <span class="tone-text-good"> ✓ held</span>}
            </li>
          ))}
        </ul>
        {i.tools.length > 0 && (
          <p class="muted">
            Uses: {i.tools.map((t) => t.tool).join(', ')}
          </p>
        )}
        {steps.length > 0 && (
          <ol class="step-list">
            {steps.map((s) => (
              <li key={s.id} class={s.done ? 'step done' : 'step'} data-testid="plan-step" data-step={s.id} data-done={s.done}>
                <span class="step-mark" aria-hidden="true">
                  {s.done ? '✓' : ''}
                </span>
                <div class="step-text">
                  <p class="step-title">
                    {s.title}
                    <span class="visually-hidden">{s.done ? ' (done)' : ' (to do)'}</span>
                  </p>
                  <p class="muted">{s.detail}</p>
                </div>
                <div class="step-links">
                  {s.links.map((l) => (
                    <a key={l.href} href={l.href} class={next === s.id ? 'button button-small button-primary' : 'button button-small'} data-testid="plan-step-link">
                      {l.label}
                    </a>
                  ))}
                </div>
              </li>
            ))}
          </ol>
        )}
      </div>
    </article>
  );
}
