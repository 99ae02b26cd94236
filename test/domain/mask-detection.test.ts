import { describe, expect, it } from 'vitest';
import { isMaskLike } from '../../src/domain/mask-detection.js';

describe('mask detection', () => {
  it('recognises what UIs show in place of secrets, not real values', () => {
    for (const mask of ['********', '••••', '****abcd', '__REDACTED__', '[redacted]', '<hidden>', '__SECRET__', '***masked***', 'xxxxxxxx']) expect(isMaskLike(mask), mask).toBe(true);
    for (const real of ['secret', 'hidden', 'hunter2', 'sk_live_abc*', 'a***b', `${'*'.repeat(300)}x`]) expect(isMaskLike(real), real).toBe(false);
  });

  it('stays linear on hostile input (a 64 KiB run of stars answers at once)', () => {
    const started = performance.now();
    for (const value of [`${'*'.repeat(65_536)}!`, `***${'*'.repeat(65_530)}`, `${'•'.repeat(65_536)}x`]) isMaskLike(value);
    expect(performance.now() - started).toBeLessThan(100);
  });
});
