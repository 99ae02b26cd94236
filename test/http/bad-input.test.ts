import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { AnyContract } from '../../src/contracts/define.js';
import { ALL_CONTRACTS } from '../../src/contracts/index.js';
import { type TestResponse, type TestServer, startTestServer } from '../support/harness.js';
import {
  type ContractCall,
  bodyContracts,
  callContract,
  createIntegration,
  dbSnapshot,
  expectFieldError,
  expectProblem,
  fixtureFor,
  pathParamsOf,
  queryContracts,
  urlOf,
} from './fixtures.js';

/**
 * Generic malformed-input checks for every operation with a body or a query string,
 * derived from the registry so new operations are covered. Each refused call must be a
 * clean problem+json and must leave the database exactly as it was.
 */
const CODE: Record<number, string> = { 400: 'bad_request', 413: 'payload_too_large', 415: 'unsupported_media_type', 422: 'validation_failed' };

const shapeOf = (c: AnyContract): Record<string, z.ZodType> => (c.io.input as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
const bodyFields = (c: AnyContract) => Object.keys(shapeOf(c)).filter((f) => !pathParamsOf(c.http.path).includes(f) && !(c.http.query ?? []).includes(f));

/** The zod type name under optional/default/nullable wrappers. */
function baseType(schema: z.ZodType): string {
  let def = (schema as any)._zod.def;
  while (['optional', 'default', 'nullable', 'prefault', 'readonly'].includes(def.type)) def = def.innerType._zod.def;
  return def.type;
}

/** The first value of the wrong JSON type that the field's own schema refuses. */
const BODY_CANDIDATES: unknown[] = [12345, 'not a valid value ✗ #', true, ['x'], { x: 1 }];
const QUERY_CANDIDATES = ['not a valid value ✗ #', '-1', '1.5'];
const wrongValue = <T>(schema: z.ZodType, candidates: T[]): T | undefined => candidates.find((v) => !schema.safeParse(v).success);

describe('bad input', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  /** Sets up a valid call for a contract and returns a checker that a refusal changed nothing. */
  async function prepare(contract: AnyContract) {
    const call = await fixtureFor(contract)({ s, adminKey: s.adminKey });
    const before = await dbSnapshot(s);
    const refused = async (res: TestResponse, status: number, field?: string) => {
      if (field) expectFieldError(res, field);
      else expectProblem(res, status, CODE[status]);
      expect(await dbSnapshot(s), `state after ${res.status} ${res.text}`).toEqual(before);
    };
    const send = (body: string, headers: Record<string, string> = {}, query = call.query) =>
      s.request(contract.http.method, urlOf(contract, { ...call, query }), { raw: body, headers });
    return { call, refused, send };
  }

  for (const contract of bodyContracts()) {
    describe(`${contract.meta.key} (${contract.http.method} ${contract.http.path}) body`, () => {
      let t: Awaited<ReturnType<typeof prepare>>;
      beforeAll(async () => {
        t = await prepare(contract);
      });
      const json = () => JSON.stringify(t.call.body ?? {});
      const withField = (field: string, value: unknown): ContractCall => ({ ...t.call, body: { ...(t.call.body as object), [field]: value } });

      it('malformed JSON → 400 bad_request', async () => {
        for (const raw of ['{"name": ', '{name: 1}', "{'a': 1}", '{"a":1}}', '', '\u0000']) {
          await t.refused(await t.send(raw), 400);
        }
      });

      it('a body that is not an object → 400', async () => {
        for (const raw of ['[]', `[${json()}]`, '"a string"', '42', 'true']) await t.refused(await t.send(raw), 400);
      });

      it('wrong types per field → 422 naming the field', async () => {
        const fields = bodyFields(contract);
        for (const field of fields) {
          const value = wrongValue(shapeOf(contract)[field]!, BODY_CANDIDATES);
          expect(value, `${field} accepts every JSON type`).toBeDefined();
          await t.refused(await callContract(s, contract, withField(field, value)), 422, field);
        }
      });

      it('over-long strings → 422 naming the field', async () => {
        const strings = bodyFields(contract).filter((f) => baseType(shapeOf(contract)[f]!) === 'string');
        for (const field of strings) await t.refused(await callContract(s, contract, withField(field, 'a'.repeat(5000))), 422, field);
      });

      it('unknown fields → 422 naming the field', async () => {
        for (const field of ['bogus', 'tenantId', 'uid', 'version', 'hasSecrets']) {
          if (field in shapeOf(contract)) continue;
          await t.refused(await callContract(s, contract, withField(field, 'x')), 422, field);
        }
      });

      it('a path field repeated in the body → 422 naming it', async () => {
        for (const param of pathParamsOf(contract.http.path)) {
          await t.refused(await callContract(s, contract, withField(param, t.call.params![param])), 422, param);
        }
      });

      it('a body over 1 MiB → 413', async () => {
        const big = JSON.stringify({ ...(t.call.body as object), padding: 'p'.repeat(1024 * 1024 + 10) });
        await t.refused(await t.send(big), 413);
      });

      it('a body that is not JSON → 415', async () => {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
          await t.refused(await t.send(json(), { 'content-type': type }), 415);
        }
      });

      it('__proto__ and constructor.prototype keys → 400/422, never 5xx, and nothing is polluted', async () => {
        const bodies = [
          `{"__proto__": {"polluted": true}, ${json().slice(1)}`,
          `{"constructor": {"prototype": {"polluted": true}}, ${json().slice(1)}`,
          `{"config": {"__proto__": {"polluted": true}}, "metadata": {"constructor": {"prototype": {"polluted": true}}}}`,
        ];
        for (const raw of bodies.map((b) => b.replace(', }', '}'))) {
          const res = await t.send(raw);
          expect([400, 422], res.text).toContain(res.status);
          await t.refused(res, res.status);
        }
        expect(({} as any).polluted).toBeUndefined();
      });
    });
  }

  for (const contract of queryContracts()) {
    describe(`${contract.meta.key} (${contract.http.method} ${contract.http.path}) query`, () => {
      let t: Awaited<ReturnType<typeof prepare>>;
      beforeAll(async () => {
        t = await prepare(contract);
      });
      const query = (extra: Record<string, string>) => ({ ...t.call, query: { ...t.call.query, ...extra } });
      const fields = contract.http.query ?? [];

      it('unknown query parameters → 422 naming them', async () => {
        for (const name of ['bogus', 'tenantId', '__proto__', 'constructor']) {
          await t.refused(await callContract(s, contract, query({ [name]: '1' })), 422, `query.${name}`);
        }
        // A body field is not a query parameter either.
        const bodyField = bodyFields(contract)[0];
        if (bodyField) await t.refused(await callContract(s, contract, query({ [bodyField]: 'x' })), 422, `query.${bodyField}`);
      });

      it('wrong values per query parameter → 422 naming it', async () => {
        let checked = 0;
        for (const field of fields) {
          const value = wrongValue(shapeOf(contract)[field]!, QUERY_CANDIDATES);
          if (value === undefined) continue; // free text: covered by the length check below
          checked++;
          await t.refused(await callContract(s, contract, query({ [field]: value })), 422, field);
        }
        expect(checked).toBeGreaterThan(0);
      });

      it('over-long query strings → 422 naming the parameter', async () => {
        for (const field of fields.filter((f) => baseType(shapeOf(contract)[f]!) === 'string')) {
          await t.refused(await callContract(s, contract, query({ [field]: 'a'.repeat(1000) })), 422, field);
        }
      });

      it('a repeated query parameter → 422', async () => {
        const url = urlOf(contract, t.call);
        const res = await s.request(contract.http.method, `${url}${url.includes('?') ? '&' : '?'}${fields[0]}=a&${fields[0]}=b`);
        await t.refused(res, 422, fields[0]);
      });

      if (fields.includes('limit')) {
        it('limit 0, 201, -1, 1.5, abc and empty → 422 on limit', async () => {
          for (const limit of ['0', '201', '-1', '1.5', 'abc', '', '1e3']) await t.refused(await callContract(s, contract, query({ limit })), 422, 'limit');
          const ok = await callContract(s, contract, query({ limit: '200' }));
          expect(ok.status, ok.text).toBe(200);
        });
      }

      if (fields.includes('cursor')) {
        it('bad cursors → 422 on cursor', async () => {
          const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
          const bad = ['garbage!', '', 'e30', b64({ after: null }), b64({ after: { x: 1 } }), b64([1]), b64('x'), 'a'.repeat(600)];
          for (const cursor of bad) await t.refused(await callContract(s, contract, query({ cursor })), 422, 'cursor');
        });
      }
    });
  }

  it('connection ids "." and ".." are refused on create (URL clients collapse them, so the record could never be read)', async () => {
    const key = await createIntegration(s, s.adminKey);
    for (const id of ['.', '..']) {
      const before = await dbSnapshot(s);
      const res = await s.request('POST', `/v1/integrations/${key}/connections`, { body: { id, credentials: { type: 'oauth2', accessToken: 'a' } } });
      expectFieldError(res, 'id');
      expect(await dbSnapshot(s)).toEqual(before);
    }
    // Dots are otherwise fine.
    expect((await s.request('POST', `/v1/integrations/${key}/connections`, { body: { id: '...', credentials: { type: 'oauth2', accessToken: 'a' } } })).status).toBe(201);
  });

  describe('path parameters', () => {
    for (const contract of ALL_CONTRACTS.filter((c) => pathParamsOf(c.http.path).length > 0)) {
      it(`${contract.meta.key}: malformed or over-long path parameters → 422 naming them`, async () => {
        const t = await prepare(contract);
        for (const param of pathParamsOf(contract.http.path)) {
          for (const value of ['not valid!', 'a'.repeat(300), 'a b', '<script>']) {
            const call = { ...t.call, params: { ...t.call.params, [param]: value } };
            await t.refused(await callContract(s, contract, call), 422, param);
          }
        }
      });
    }
  });
});
