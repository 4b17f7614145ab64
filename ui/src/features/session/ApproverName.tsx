import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toFailure, type ApiFailure } from '../../api';
import { FailureNotice } from '../../components/FailureNotice';
import { approverNameProblem } from './session-logic';

/**
 * Asked once per browser login: the name every approval, rejection and grant this login makes
 * is recorded under (`browser:<name>`). It cannot be dismissed; the gateway refuses decisions
 * from an unnamed login (`approver_name_required`) anyway.
 */
export function ApproverName({ onNamed }: { onNamed: (name: string) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const local = approverNameProblem(name);
    setProblem(local);
    setFailure(null);
    if (local) return;
    setBusy(true);
    try {
      const session = await api.sessionSetName(name);
      onNamed(session.name ?? name.trim());
    } catch (reason) {
      setFailure(toFailure(reason));
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="approver-name-title"
      aria-describedby="approver-name-body"
      data-testid="approver-name-dialog"
      onCancel={(e) => e.preventDefault()}
    >
      <form onSubmit={submit} noValidate>
        <h2 id="approver-name-title">Your name, for the audit log</h2>
        <p id="approver-name-body">
          Every draft you approve or reject and every grant you give from this browser is recorded under this name. You are
          asked once per login.
        </p>
        <div class="field">
          <label for="approver-name-input">Name</label>
          <input
            id="approver-name-input"
            type="text"
            value={name}
            maxLength={64}
            autoFocus
            autocomplete="name"
            onInput={(e) => setName(e.currentTarget.value)}
            aria-invalid={problem !== null ? true : undefined}
            aria-describedby={problem !== null ? 'approver-name-problem' : undefined}
            data-testid="approver-name-input"
          />
          {problem && (
            <p class="field-error" id="approver-name-problem" role="alert" data-testid="approver-name-problem">
              {problem}
            </p>
          )}
        </div>
        {failure && <FailureNotice failure={failure} testId="approver-name-failure" />}
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy} data-testid="approver-name-save">
            {busy ? 'Saving…' : 'Continue'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
