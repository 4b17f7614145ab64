import { useState } from 'preact/hooks';
import { api } from '../../api';
import type { GatewayState } from '../../app';
import { FailureNotice } from '../../components/FailureNotice';
import { ScreenHeader } from '../../components/ScreenHeader';
import { formatCount, formatLocalTime, formatRelative } from '../../lib/format';

export function SettingsScreen({ gateway }: { gateway: GatewayState }) {
  const [now] = useState(() => Date.now());
  const transport = api.transportKind() === 'tauri' ? 'Desktop app window' : 'Browser (control API over HTTP)';

  return (
    <>
      <ScreenHeader title="Settings" subtitle="This gateway and where it keeps its data." />
      {gateway.kind === 'checking' && <p class="muted">Asking the gateway…</p>}
      {(gateway.kind === 'unreachable' || gateway.kind === 'error') && <FailureNotice failure={gateway.failure} />}
      {gateway.kind === 'running' && (
        <section class="card" aria-labelledby="gateway-heading">
          <h2 id="gateway-heading" class="card-title">
            Gateway
          </h2>
          <dl class="facts" data-testid="settings-facts">
            <dt>Version</dt>
            <dd>{gateway.status.version}</dd>
            <dt>Address</dt>
            <dd>
              <code>{gateway.status.url}</code>
            </dd>
            <dt>Data directory</dt>
            <dd>
              <code data-testid="settings-data-dir">{gateway.status.data_dir}</code>
            </dd>
            <dt>Keychain</dt>
            <dd>{gateway.status.keychain}</dd>
            <dt>Running since</dt>
            <dd>
              {formatLocalTime(gateway.status.started_at_ms)}{' '}
              <span class="muted">({formatRelative(gateway.status.started_at_ms, now)})</span>
            </dd>
            <dt>Audit rows</dt>
            <dd>{formatCount(gateway.status.audit_rows)}</dd>
            <dt>This window talks to it via</dt>
            <dd>{transport}</dd>
          </dl>
        </section>
      )}
      <p class="muted settings-note">
        Preferences such as key-rotation reminders arrive in a coming version. The switch that pauses every
        agent is in the header (and the tray menu).
      </p>
    </>
  );
}
