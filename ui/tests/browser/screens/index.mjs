// The browser checks of each screen, run in this order after the core checks in ../run.mjs.
// Each module exports one `async (t) => {}` taking the context run.mjs builds: { page, context,
// pageErrors, origin, approver, slackFeedback, hubspotToken, failureText, check, waitFor, fail, text, control,
// controlOk, agentCall, agentDrafts, connectGmail, settled, shot } — shot(name) saves
// docs/screenshots/<name>.png. `approver` is the name this login decides under; approver.mjs
// runs first and leaves the page logged in again under that name.
import approver from './approver.mjs';
import crmDiff from './crm-diff.mjs';

export const SCREENS = [approver, crmDiff];
