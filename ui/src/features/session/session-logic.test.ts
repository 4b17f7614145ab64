import { describe, expect, it } from 'vitest';
import { approverNameProblem } from './session-logic';

describe('approverNameProblem', () => {
  it('accepts a trimmed name within 64 characters', () => {
    expect(approverNameProblem('  Robin Ortiz ')).toBeNull();
    expect(approverNameProblem('é'.repeat(64))).toBeNull();
  });

  it('refuses what the gateway refuses', () => {
    expect(approverNameProblem('   ')).toMatch(/Type your name/);
    expect(approverNameProblem('x'.repeat(65))).toMatch(/at most 64/);
    expect(approverNameProblem('robin:admin')).toMatch(/':'/);
    expect(approverNameProblem('rob\nin')).toMatch(/control characters/);
  });
});
