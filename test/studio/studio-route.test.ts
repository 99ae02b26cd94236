import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUDIO_CSP, registerStudioRoute } from '../../src/surfaces/http/studio-route.js';

const INDEX = '<!doctype html><title>Studio</title><script type="module" src="/studio/assets/app-1a2b.js"></script>';

describe('studio route', () => {
  let app: FastifyInstance;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'latchkey-studio-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), INDEX);
    writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log("studio")');
    writeFileSync(join(root, 'assets', 'app-1a2b.css'), 'body{}');
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    writeFileSync(join(root, '..', 'outside-studio.txt'), 'OUTSIDE-CONTENT-7f3');
    app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
    registerStudioRoute(app, { root });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(join(root, '..', 'outside-studio.txt'), { force: true });
  });

  const get = (url: string) => app.inject({ method: 'GET', url });

  it('serves index.html at /studio and /studio/ with a self-only CSP, revalidated on every load', async () => {
    for (const url of ['/studio', '/studio/', '/studio/index.html']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(STUDIO_CSP);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toBe(INDEX);
    }
    expect(STUDIO_CSP).toContain("default-src 'self'");
    expect(STUDIO_CSP).not.toMatch(/unsafe-|https?:|data:|\*/);
  });

  it('serves assets with their content types, hashed ones cached for a year', async () => {
    const js = await get('/studio/assets/app-1a2b.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body).toBe('console.log("studio")');
    expect((await get('/studio/assets/app-1a2b.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await get('/studio/favicon.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
    const head = await app.inject({ method: 'HEAD', url: '/studio/assets/app-1a2b.js' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('falls back to index.html for Studio routes (SPA), but not for missing files', async () => {
    for (const url of ['/studio/integrations', '/studio/integrations/github-prod/connections/user%40example.com', '/studio/audit?action=x']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(INDEX);
    }
    expect((await get('/studio/assets/missing-9f9f.js')).statusCode).toBe(404);
    expect((await get('/studio/robots.txt')).statusCode).toBe(404);
    expect((await get('/studio/assets/deep/missing.css')).statusCode).toBe(404);
  });

  it('never serves dotfiles or anything outside its folder', async () => {
    for (const url of ['/studio/.env', '/studio/%2e%2e/outside-studio.txt', '/studio/assets/%2e%2e/%2e%2e/outside-studio.txt', '/studio/..%2foutside-studio.txt', '/studio/%00.js']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('OUTSIDE-CONTENT');
      expect(res.body).not.toContain('SECRET');
    }
  });

  it('says how to build the Studio when it is not built', async () => {
    const empty = Fastify();
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-studio-empty-'));
    registerStudioRoute(empty, { root: dir });
    const res = await empty.inject({ method: 'GET', url: '/studio/integrations' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    await empty.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
