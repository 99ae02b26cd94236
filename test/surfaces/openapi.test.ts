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
      for (const path of [contract.http.path, ...(contract.http.aliases ?? [])]) {
        const op = doc.paths[path]?.[contract.http.method.toLowerCase()];
        expect(op, `${contract.meta.key} at ${contract.http.method} ${path}`).toBeDefined();
        expect(op.operationId).toBe(contract.meta.key);
        expect(op['x-latchkey'].policies).toEqual(contract.policy.policies);
        expect(op.responses[String(contract.http.successStatus ?? 200)]).toBeDefined();
        for (const param of path.matchAll(/\{([^}]+)\}/g)) {
          expect(op.parameters.some((p: any) => p.in === 'path' && p.name === param[1])).toBe(true);
        }
      }
    }
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
