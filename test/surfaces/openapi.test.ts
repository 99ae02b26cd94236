import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CONTRACTS } from '../../src/contracts/index.js';
import { type TestServer, startTestServer } from '../support/harness.js';

describe('OpenAPI document and reference UI', () => {
  let s: TestServer;
  let doc: any;
  beforeAll(async () => {
    s = await startTestServer();
    const res = await s.request('GET', '/openapi.json', { key: null });
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => s?.close());

  it('is OpenAPI 3.1 with both auth schemes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer']);
  });

  it('has every operation of the registry, on every path it is bound to', () => {
    for (const contract of ALL_CONTRACTS) {
      for (const [alias, path] of [contract.http.path, ...(contract.http.aliases ?? [])].entries()) {
        const op = doc.paths[path]?.[contract.http.method.toLowerCase()];
        expect(op, `${contract.meta.key} at ${contract.http.method} ${path}`).toBeDefined();
        expect(op.operationId).toBe(alias === 0 ? contract.meta.key : `${contract.meta.key}.alias${alias}`);
        expect(op['x-latchkey'].policies).toEqual(contract.policy.policies);
        expect(op.responses[String(contract.http.successStatus ?? 200)]).toBeDefined();
        for (const param of path.matchAll(/\{([^}]+)\}/g)) {
          expect(op.parameters.some((p: any) => p.in === 'path' && p.name === param[1])).toBe(true);
        }
      }
    }
  });

  it('operation ids are unique (OpenAPI requires it; aliases say what they alias)', () => {
    const ops = Object.values(doc.paths).flatMap((methods: any) => Object.values(methods)) as any[];
    const ids = ops.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const alias = doc.paths['/v1/connections'].get;
    expect(alias['x-latchkey'].aliasOf).toBe('integrations.connection.list');
  });

  it('documents the HTTP conventions each operation takes: If-Match, Idempotency-Key, ETag, 412, 415', () => {
    const param = (op: any, name: string) => op.parameters.find((p: any) => p.in === 'header' && p.name === name);
    for (const contract of ALL_CONTRACTS) {
      const op = doc.paths[contract.http.path][contract.http.method.toLowerCase()];
      const label = contract.meta.key;
      expect(Boolean(param(op, 'If-Match')), label).toBe(contract.http.ifMatch === true);
      if (contract.http.ifMatch) expect(op.responses['412'], label).toBeDefined();
      const idempotent = contract.kind === 'command' && contract.http.method === 'POST' && contract.http.idempotencyKey !== false;
      expect(Boolean(param(op, 'Idempotency-Key')), label).toBe(idempotent);
      if (op.requestBody) expect(op.responses['415'], label).toBeDefined();
    }
    const patch = doc.paths['/v1/integrations/{key}'].patch;
    expect(patch.responses['200'].headers.ETag).toBeDefined();
    expect(doc.paths['/v1/integrations'].post.responses['201'].headers['Idempotent-Replayed']).toBeDefined();
    expect(param(doc.paths['/v1/integrations/{key}/connections/{id}/reveal']?.post ?? { parameters: [] }, 'Idempotency-Key')).toBeUndefined();
  });

  it('documents write-only secrets without example values', () => {
    const create = doc.paths['/v1/integrations'].post.requestBody.content['application/json'].schema;
    expect(create.properties.secrets).toBeDefined();
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/"examples?"\s*:/);
    const record = doc.paths['/v1/integrations/{key}'].get.responses['200'].content['application/json'].schema;
    expect(record.properties.secrets).toBeUndefined();
    expect(record.properties.hasSecrets).toBeDefined();
  });

  it('serves a reference UI without third-party scripts', async () => {
    const page = await s.request('GET', '/docs', { key: null });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const script = await s.request('GET', '/docs/app.js', { key: null });
    expect(script.text).toContain('/openapi.json');
  });
});
