// The browser checks of each screen, run in this order after the core checks in ../run.mjs.
// Each module exports one `async (t) => {}` taking the context run.mjs builds: { page, context,
// pageErrors, origin, failureText, check, waitFor, fail, text, control, controlOk, agentCall,
// agentDrafts, connectGmail, settled, shot } — shot(name) saves docs/screenshots/<name>.png.
import audit from './audit.mjs';

export const SCREENS = [audit];
