import { randomBytes } from 'node:crypto';

/**
 * Time-ordered identifiers: 12 hex digits of milliseconds then 16 random hex digits, so
 * sorting by id is sorting by creation time and keyset pagination needs no extra column.
 *
 * @example newId('con') // 'con_0193f2a1b2c3_9f86d081884c7d65'
 */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${now.toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}
