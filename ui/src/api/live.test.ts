import { describe, expect, it } from 'vitest';
import { countNewlines, exportFilename, rowsFromLines } from './export';
import { messageFromPayload, parseLiveMessage, reconnectDelayMs, wants } from './live';

describe('live events', () => {
  it('parses each server-sent event by its name and refuses what does not match', () => {
    expect(parseLiveMessage('approval', '{"kind":"approval","change":"created","approval_id":"apr_1","pending":2}')).toEqual({
      kind: 'approval',
      change: 'created',
      approval_id: 'apr_1',
      pending: 2,
    });
    expect(parseLiveMessage('ready', '{"kind":"ready"}')).toEqual({ kind: 'ready' });
    expect(parseLiveMessage('lagged', '{"kind":"lagged","missed":3}')).toEqual({ kind: 'ready' });
    expect(parseLiveMessage('audit', 'not json')).toBeNull();
    expect(parseLiveMessage('audit', '{"kind":"pause","paused":true}')).toBeNull();
    expect(parseLiveMessage('provider_event', '{"kind":"provider_event"}')).toBeNull();
  });

  it('reads the window events the desktop shell forwards', () => {
    expect(messageFromPayload({ kind: 'pause', paused: true })).toEqual({ kind: 'pause', paused: true });
    expect(messageFromPayload({ kind: 'lagged' })).toEqual({ kind: 'ready' });
    expect(messageFromPayload({ kind: 'nope' })).toBeNull();
    expect(messageFromPayload('approval')).toBeNull();
  });

  it('hands a listener only its kinds, and ready to everyone', () => {
    expect(wants(['approval'], { kind: 'audit', seq: 4, rows: 1 })).toBe(false);
    expect(wants(['approval', 'audit'], { kind: 'audit', seq: 4, rows: 1 })).toBe(true);
    expect(wants([], { kind: 'ready' })).toBe(true);
  });

  it('waits longer after each failed reconnect, never more than 30 s', () => {
    expect([0, 1, 2, 3].map(reconnectDelayMs)).toEqual([1000, 2000, 4000, 8000]);
    expect(reconnectDelayMs(50)).toBe(30_000);
    expect(reconnectDelayMs(-1)).toBe(1000);
  });
});

describe('export progress', () => {
  it('counts rows from the lines streamed so far', () => {
    const chunk = new TextEncoder().encode('{"id":1}\n{"id":2}\n{"id":3');
    expect(countNewlines(chunk)).toBe(2);
    expect(rowsFromLines('jsonl', 2)).toBe(2);
    expect(rowsFromLines('csv', 3)).toBe(2);
    expect(rowsFromLines('csv', 0)).toBe(0);
  });

  it('names the file by format and UTC time', () => {
    expect(exportFilename('jsonl', new Date(Date.UTC(2026, 10, 26, 9, 5, 7)))).toBe('switchboard-audit-20261126-090507.jsonl');
  });
});
