// The audit export with progress: in a browser the control API's streamed download is read
// chunk by chunk (bytes and rows counted as they arrive) and handed over as a file; in the
// window the gateway writes the file into the Downloads folder and reports progress as Tauri
// events, and the answer says where it went.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { auditExportPath, type ExportFormat } from './calls';
import { failureFromHttp, failureFromInvoke, failureFromNetwork } from './errors';
import type { ExportSaved } from './generated/ExportSaved';
import { detectTransportKind } from './transport';

export type { ExportFormat } from './calls';

export type ExportProgress = {
  bytes: number;
  rows: number;
  /** Rows the gateway said the export holds (browser only), or null. */
  total: number | null;
};

export type ExportDone =
  | { kind: 'download'; blob: Blob; filename: string; bytes: number; rows: number }
  | { kind: 'saved'; path: string; bytes: number; rows: number };

/** The Tauri event the window's Save reports progress on. */
export const EXPORT_PROGRESS_EVENT = 'audit-export-progress';

/** Newlines in a chunk: one per JSONL row (CSV adds a header line). */
export function countNewlines(chunk: Uint8Array): number {
  let n = 0;
  for (const b of chunk) if (b === 10) n++;
  return n;
}

/** Rows in an export of `lines` lines: CSV's first line is its header. */
export function rowsFromLines(format: ExportFormat, lines: number): number {
  return format === 'csv' ? Math.max(0, lines - 1) : lines;
}

export function exportFilename(format: ExportFormat, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `switchboard-audit-${stamp}.${format}`;
}

async function exportInBrowser(format: ExportFormat, onProgress: (p: ExportProgress) => void): Promise<ExportDone> {
  const path = auditExportPath(format);
  let response: Response;
  try {
    response = await fetch(path, { credentials: 'same-origin', headers: { accept: '*/*' } });
  } catch (reason) {
    throw failureFromNetwork(path, reason);
  }
  if (!response.ok) throw failureFromHttp(response.status, response.statusText, await response.text());
  const header = response.headers.get('x-audit-rows');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  const parts: Uint8Array[] = [];
  let bytes = 0;
  let lines = 0;
  const reader = response.body?.getReader();
  if (reader) {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        bytes += value.byteLength;
        lines += countNewlines(value);
        onProgress({ bytes, rows: rowsFromLines(format, lines), total });
      }
    } catch (reason) {
      throw failureFromNetwork(path, reason);
    }
  }
  const type = format === 'csv' ? 'text/csv' : 'application/jsonl';
  const blob = new Blob(parts as BlobPart[], { type });
  return { kind: 'download', blob, filename: exportFilename(format, new Date()), bytes, rows: rowsFromLines(format, lines) };
}

async function exportInWindow(format: ExportFormat, onProgress: (p: ExportProgress) => void): Promise<ExportDone> {
  const unlisten = await listen<{ bytes: number; rows: number }>(EXPORT_PROGRESS_EVENT, (e) =>
    onProgress({ bytes: e.payload.bytes, rows: e.payload.rows, total: null }),
  ).catch(() => null);
  try {
    const saved = await invoke<ExportSaved>('audit_export_save', { format });
    return { kind: 'saved', path: saved.path, bytes: saved.bytes, rows: saved.rows };
  } catch (reason) {
    throw failureFromInvoke('audit_export_save', reason);
  } finally {
    unlisten?.();
  }
}

/** Exports the whole audit log, oldest first, reporting progress as it goes. */
export function exportAudit(format: ExportFormat, onProgress: (p: ExportProgress) => void): Promise<ExportDone> {
  const win = typeof window === 'undefined' ? undefined : window;
  return detectTransportKind(win) === 'tauri' ? exportInWindow(format, onProgress) : exportInBrowser(format, onProgress);
}

/** Hands a downloaded export to the browser as a file. */
export function saveDownload(done: Extract<ExportDone, { kind: 'download' }>): void {
  const url = URL.createObjectURL(done.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = done.filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
