/** The longest name the gateway takes (`APPROVER_NAME_MAX`). */
export const APPROVER_NAME_MAX = 64;

/** Why a typed approver name would be refused, in the gateway's terms; null when it is fine. */
export function approverNameProblem(raw: string): string | null {
  const name = raw.trim();
  if (name === '') return 'Type your name: it is recorded with every approval, rejection and grant you make.';
  if ([...name].length > APPROVER_NAME_MAX) return `The name may be at most ${APPROVER_NAME_MAX} characters.`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f:]/.test(name)) return "The name may not contain ':' or control characters.";
  return null;
}
