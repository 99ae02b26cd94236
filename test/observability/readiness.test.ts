import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/harness.js';

describe('/readyz while draining', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('answers 503 once draining starts, while liveness and the API keep answering (with Connection: close)', async () => {
    const ready = await s.request('GET', '/readyz', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
    expect(ready.headers.connection).not.toBe('close');

    s.lk.readiness.startDraining();
    const draining = await s.request('GET', '/readyz', { key: null });
    expect(draining.status).toBe(503);
    expect(draining.body).toEqual({ status: 'draining' });
    expect(draining.headers.connection).toBe('close');
    expect((await s.request('GET', '/healthz', { key: null })).status).toBe(200);
    const api = await s.request('GET', '/v1/providers?limit=1');
    expect(api.status).toBe(200);
    expect(api.headers.connection).toBe('close');
  });
});
