import { useEffect, useState } from 'preact/hooks';
import { WithCode } from '../../components/FailureNotice';
import { MCP_CLIENTS, mcpConfig, mcpHint, mcpUrl, type McpClient, type McpTransport } from './agent-logic';

/** Copies `text`; says "Copied" for a moment, or asks to copy by hand where the clipboard is closed. */
export function CopyButton({ text, label, testId }: { text: string; label: string; testId: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = window.setTimeout(() => setState('idle'), 2_500);
    return () => window.clearTimeout(timer);
  }, [state]);
  const copy = () => {
    const clip = typeof navigator === 'undefined' ? undefined : navigator.clipboard;
    if (!clip) {
      setState('failed');
      return;
    }
    clip.writeText(text).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  };
  return (
    <button type="button" class="button button-small" onClick={copy} data-testid={testId} data-state={state} aria-live="polite">
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy by hand' : label}
    </button>
  );
}

type Props = { agent: string; gatewayUrl: string; dataDir: string; token: string | null };

/** Copy-paste MCP setup for Claude Desktop, Cursor and VS Code, as a local program or over HTTP. */
export function McpSetup({ agent, gatewayUrl, dataDir, token }: Props) {
  const [client, setClient] = useState<McpClient>('claude');
  const [transport, setTransport] = useState<McpTransport>('stdio');
  const text = mcpConfig(client, transport, { gatewayUrl, dataDir, agent, token });
  const info = MCP_CLIENTS.find((c) => c.id === client) ?? MCP_CLIENTS[0]!;
  return (
    <section class="card agents-card" aria-labelledby="mcp-title" data-testid="mcp-setup" data-agent={agent}>
      <h2 class="card-title" id="mcp-title">
        Connect “{agent}” to an AI app
      </h2>
      <div class="mcp-body">
        <p class="muted">
          Paste this into the app's settings file so the assistant can use Switchboard as “{agent}”.
          {token === null
            ? ' Replace PASTE-THE-AGENT-TOKEN-HERE with the key you copied when you added the agent.'
            : ' It already contains the new key: copy it before you close the key box above.'}
        </p>
        <div class="mcp-choices">
          <div class="segmented" role="radiogroup" aria-label="AI app">
            {MCP_CLIENTS.map((c) => (
              <label key={c.id} class={c.id === client ? 'segment active' : 'segment'}>
                <input
                  type="radio"
                  name="mcp-client"
                  value={c.id}
                  checked={c.id === client}
                  onChange={() => setClient(c.id)}
                  data-testid={`mcp-client-${c.id}`}
                />
                {c.name}
              </label>
            ))}
          </div>
          <div class="segmented" role="radiogroup" aria-label="How the app reaches Switchboard">
            <label class={transport === 'stdio' ? 'segment active' : 'segment'}>
              <input type="radio" name="mcp-transport" value="stdio" checked={transport === 'stdio'} onChange={() => setTransport('stdio')} data-testid="mcp-transport-stdio" />
              Local program
            </label>
            <label class={transport === 'http' ? 'segment active' : 'segment'}>
              <input type="radio" name="mcp-transport" value="http" checked={transport === 'http'} onChange={() => setTransport('http')} data-testid="mcp-transport-http" />
              Web address ({mcpUrl(gatewayUrl)})
            </label>
          </div>
        </div>
        <p class="field-hint">
          File: <code>{info.file}</code>. <WithCode text={mcpHint(client, transport)} />
        </p>
        <pre class="json mcp-config" data-testid="mcp-config" data-client={client} data-transport={transport}>
          {text}
        </pre>
        <CopyButton text={text} label="Copy setup" testId="mcp-copy" />
      </div>
    </section>
  );
}
