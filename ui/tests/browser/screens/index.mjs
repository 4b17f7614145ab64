// The browser checks of each screen, run in this order after the core checks in ../run.mjs.
// Each module exports one `async (t) => {}` taking the context run.mjs builds: { page, context,
// pageErrors, origin, approver, slackFeedback, hubspotToken, failureText, check, waitFor, fail, text, control,
// controlOk, agentCall, agentDrafts, connectGmail, settled, shot } — shot(name) saves
// docs/screenshots/<name>.png. `approver` is the name this login decides under; approver.mjs
// runs first and leaves the page logged in again under that name.
import agents from './agents.mjs';
import approver from './approver.mjs';
import audit from './audit.mjs';
import connections from './connections.mjs';
import crmDiff from './crm-diff.mjs';
import journey from './journey.mjs';
import planner from './planner.mjs';
import rateLimits from './rate-limits.mjs';
import scopes from './scopes.mjs';
import settings from './settings.mjs';

export const SCREENS = [approver, crmDiff, agents, planner, scopes, rateLimits, settings, connections, audit, journey];
