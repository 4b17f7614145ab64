import { describe, expect, it } from 'vitest';
import { formatLatency, formatLocalTime, formatRelative, prettyJson, shortHash } from './format';

describe('format', () => {
  it('formats local time with zero padding', () => {
    const ts = new Date(2025, 0, 2, 3, 4, 5).getTime();
    expect(formatLocalTime(ts)).toBe('2025-01-02 03:04:05');
    expect(formatLocalTime(Number.NaN)).toBe('—');
  });

  it('formats relative times', () => {
    const now = 1_000_000_000_000;
    expect(formatRelative(now - 1_000, now)).toBe('just now');
    expect(formatRelative(now - 42_000, now)).toBe('42 s ago');
    expect(formatRelative(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(formatRelative(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(formatRelative(now - 2 * 86_400_000, now)).toBe('2 d ago');
    expect(formatRelative(now + 120_000, now)).toBe('in 2 min');
  });

  it('shortens hashes', () => {
    expect(shortHash('0123456789abcdef0123')).toBe('0123456789ab…');
    expect(shortHash('abc')).toBe('abc');
    expect(shortHash(null)).toBe('—');
  });

  it('formats latency', () => {
    expect(formatLatency(null)).toBe('—');
    expect(formatLatency(12.4)).toBe('12 ms');
    expect(formatLatency(1530)).toBe('1.53 s');
    expect(formatLatency(12_300)).toBe('12.3 s');
  });

  it('renders the summary as JSON text, markup untouched', () => {
    expect(prettyJson({ a: '<b>x</b>' })).toBe('{\n  "a": "<b>x</b>"\n}');
    expect(prettyJson(null)).toBe('null');
    expect(prettyJson(undefined)).toBe('—');
  });
});
