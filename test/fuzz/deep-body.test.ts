import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INPUT_DEPTH as MAX_BODY_DEPTH, nestsDeeperThan } from '../../src/contracts/input-depth.js';
import { createIntegration, dbSnapshot, expectProblem } from '../http/fixtures.js';
import { BOOTSTRAP_KEY, type TestServer, startTestServer } from '../support/harness.js';

/** `{"a":{"a":…1…}}`, `levels` objects deep, as raw JSON text (no recursion to build it). */
const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

/**
 * Regression found by the contract fuzzer: a connection whose metadata nested 5000 levels
 * deep (16 KiB of JSON, inside the body limit) overflowed the stack in the metadata size
 * check and came back as a 500.
 */
describe('deeply nested request bodies', () => {
  let s: TestServer;
  let integration: string;
  beforeAll(async () => {
    s = await startTestServer();
    integration = await createIntegration(s, BOOTSTRAP_KEY);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('counts depth without recursion', () => {
    expect(nestsDeeperThan({ a: { b: [1] } }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: { b: [1] } }, 2)).toBe(true);
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan(JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), MAX_BODY_DEPTH)).toBe(true);
  });

  for (const contentType of ['application/json', 'application/json; charset=utf-16', 'application/json; charset=latin1']) {
    it(`refuses metadata nested thousands of levels deep with a 400 problem and stores nothing (${contentType})`, async () => {
      const before = await dbSnapshot(s);
      for (const metadata of [nestedObjects(5_000), `${'['.repeat(3_000)}${']'.repeat(3_000)}`]) {
        const res = await s.request('POST', `/v1/integrations/${integration}/connections`, {
          raw: `{"id":"deep-1","credentials":{"type":"oauth2","accessToken":"t"},"metadata":{"x":${metadata}}}`,
          headers: { 'content-type': contentType },
        });
        expectProblem(res, 400, 'bad_request');
        expect(res.body.detail).toContain(`deeper than ${MAX_BODY_DEPTH} levels`);
      }
      expect(await dbSnapshot(s)).toEqual(before);
    });
  }

  it('still accepts ordinary nesting', async () => {
    const res = await s.request('POST', `/v1/integrations/${integration}/connections`, {
      raw: `{"id":"nested-ok","credentials":{"type":"oauth2","accessToken":"t"},"metadata":{"x":${nestedObjects(40)}}}`,
    });
    expect(res.status, res.text).toBe(201);
    expect(JSON.stringify(res.body.metadata)).toBe(`{"x":${nestedObjects(40)}}`);
  });
});
