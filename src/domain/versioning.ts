import { LatchkeyError } from '../errors.js';

/** Checks `If-Match` against a record's version before a write. */
export function assertIfMatch(ifMatch: readonly number[] | '*' | undefined, version: number): void {
  if (ifMatch === undefined || ifMatch === '*') return;
  if (!ifMatch.includes(version)) {
    throw new LatchkeyError('precondition_failed', `the record is at version ${version}, not ${ifMatch.join(' or ')}`);
  }
}

/** The error for an update that lost a race (the row changed between read and write). */
export const concurrentModification = (): LatchkeyError =>
  new LatchkeyError('precondition_failed', 'the record was changed by another request; read it again and retry');
