/** Shown once the gateway answers 401: the browser session is gone. No automatic retry. */
export function SessionExpired() {
  return (
    <div class="session-expired" data-testid="session-expired">
      <section class="session-card" role="alert">
        <p class="brand-name">Switchboard</p>
        <h1>Session expired</h1>
        <p>
          Run <code>switchboard login-url</code> for a fresh link, then open it in this browser.
        </p>
        <p class="muted">Login links work once; the session is kept in a cookie only this browser holds.</p>
      </section>
    </div>
  );
}
