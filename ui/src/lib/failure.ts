import type { FailureCode } from '../api';

export type FailureText = { title: string; hint: string };

/** What to tell a person for each failure code. Keyed on `code`, never on message text. */
export function describeFailure(code: FailureCode): FailureText {
  switch (code) {
    case 'unreachable':
      return {
        title: 'Gateway not reachable',
        hint: 'Start it with `switchboard serve` (or open the Switchboard app), then try again.',
      };
    case 'unauthorized':
      return {
        title: 'Session expired',
        hint: 'Run `switchboard login-url` for a fresh link.',
      };
    case 'forbidden':
      return { title: 'Not allowed', hint: 'The gateway refused this request from this page.' };
    case 'bad_request':
      return { title: 'The gateway rejected the request', hint: 'Check the search and filter values.' };
    case 'payload_too_large':
      return { title: 'Too large', hint: 'The request body is over the gateway\'s size cap; send less.' };
    case 'not_found':
      return { title: 'Not found', hint: 'It may have been removed.' };
    case 'conflict':
      return { title: 'Changed elsewhere', hint: 'Reload and try again.' };
    case 'paused':
      return { title: 'Agents are paused', hint: 'Every agent is paused; resume them to let their requests through.' };
    case 'audit_unavailable':
      return {
        title: 'Audit log unavailable',
        hint: 'The gateway cannot read or write its audit log, so actions are refused until it can.',
      };
    case 'storage_full':
      return { title: 'Disk full', hint: 'Free some space on the disk that holds the data directory.' };
    case 'storage_read_only':
      return {
        title: 'Data directory is read-only',
        hint: 'The gateway needs write access to its data directory.',
      };
    case 'storage_corrupt':
      return {
        title: 'Database damaged',
        hint: 'Run `switchboard audit verify` and restore the data directory from a backup.',
      };
    case 'keychain_unavailable':
      return {
        title: 'Keychain unavailable',
        hint: 'Unlock the system keychain (Secret Service / Keychain / Credential Manager) and try again.',
      };
    case 'not_granted':
      return { title: 'Not granted', hint: 'The agent holds no grant for this; grant it on the Scopes screen.' };
    case 'scope_not_granted':
      return {
        title: 'Scope not given to the connection',
        hint: 'Tick the scope on the connection (for a pasted key, give the key that permission first), or reconnect with it.',
      };
    case 'reconnect_needed':
      return { title: 'Reconnect needed', hint: 'The tool refused the stored credential; connect the account again.' };
    case 'rate_limited':
      return { title: 'Rate limit reached', hint: 'The call waited too long for its rate-limit budget; try again shortly.' };
    case 'provider_error':
      return { title: 'The tool answered with an error', hint: 'Its answer is below.' };
    case 'provider_unreachable':
      return { title: 'The tool could not be reached', hint: 'Check the network connection and try again.' };
    case 'approver_name_required':
      return { title: 'Your name is needed first', hint: 'Give your name for the audit log in the prompt, then decide again.' };
    case 'internal':
      return { title: 'Something went wrong in the gateway', hint: 'Details below.' };
  }
}
