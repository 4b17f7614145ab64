import type { ApiFailure } from '../api';
import { describeFailure } from '../lib/failure';

type Props = {
  failure: ApiFailure;
  /** Shown as a "Try again" button when given. */
  onRetry?: () => void;
  testId?: string;
  /** Replaces the code's generic title and hint where the screen knows better what happened. */
  title?: string;
  hint?: string;
};

/** Renders `a \`cmd\` b` with the backticked parts as <code>. */
export function WithCode({ text }: { text: string }) {
  return (
    <>
      {text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}
    </>
  );
}

export function FailureNotice({ failure, onRetry, testId = 'failure', title, hint }: Props) {
  const generic = describeFailure(failure.code);
  const text = { title: title ?? generic.title, hint: hint ?? generic.hint };
  return (
    <div class="notice notice-error" role="alert" data-testid={testId} data-code={failure.code}>
      <div>
        <p class="notice-title">{text.title}</p>
        <p class="notice-hint">
          <WithCode text={text.hint} />
        </p>
        <p class="notice-detail">
          {failure.message}{' '}
          <span class="notice-code">
            (error code <code data-testid={`${testId}-code`}>{failure.code}</code>)
          </span>
        </p>
      </div>
      {onRetry && (
        <button type="button" class="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
