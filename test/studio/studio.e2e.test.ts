import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STUDIO_CSP } from '../../src/surfaces/http/studio-route.js';
import { BOOTSTRAP_KEY, type TestServer, githubIntegration, startTestServer } from '../support/harness.js';
import { chromiumAvailable, launchBrowser } from './support/browser.js';
import { ensureStudioBuilt } from './support/studio-build.js';
import { type Upstream, startUpstream } from './support/upstream.js';

/** Values typed into secret inputs: none may ever come back to the page. */
const CANARY_OLD = 'canary-studio-old-7c41e0d9a2';
const CANARY_NEW = 'canary-studio-new-4b8f13aa06';
const CANARY_WRONG = 'canary-studio-wrong-90de2f5c17';
const CANARY_CLIENT = 'canary-studio-client-secret-3e9a77b1';
const CANARIES = [CANARY_OLD, CANARY_NEW, CANARY_WRONG, CANARY_CLIENT];
const USERNAME = 'svc-user';
const SHOTS = join(process.cwd(), 'test-artifacts', 'studio');

// CI installs Chromium (.ci/run); elsewhere the suite is skipped, loudly, when it is missing.
const runnable = chromiumAvailable() || process.env.CI === 'true';
if (!runnable) console.warn('studio e2e: /usr/bin/chromium not found; install it with `apt-get install -y chromium`');

describe.skipIf(!runnable)('Studio in a real browser', () => {
  let server: TestServer;
  let upstream: Upstream;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let base = '';
  const bodies: string[] = [];
  const pending: Promise<unknown>[] = [];
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  const api = (method: string, path: string, body?: unknown) => server.request(method, path, body === undefined ? {} : { body });
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const nav = (label: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
  /** Everything a person or a script could read from the page: markup and live input values. */
  const pageText = async () =>
    `${await page.content()}\n${String(await page.evaluate("[...document.querySelectorAll('input,textarea,select')].map((e) => e.value).join('\\n')"))}`;
  /** An attribute of every element a selector matches, in document order. */
  const attributes = (selector: string, name: string) =>
    page.locator(selector).evaluateAll((elements, attr) => elements.map((el) => (el as unknown as { getAttribute(n: string): string | null }).getAttribute(attr)), name);
  const expectNoCanary = (text: string) => {
    for (const canary of CANARIES) expect(text.includes(canary), `canary ${canary} leaked`).toBe(false);
  };

  beforeAll(async () => {
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    ensureStudioBuilt();
    upstream = await startUpstream();
    server = await startTestServer({ config: { allowPrivateNetworks: true, logLevel: 'warn' } });
    await server.lk.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(server.lk.app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000); // generous: CI machines are small and busy
    page.on('response', (response) => {
      pending.push(
        response
          .text()
          .then((text) => bodies.push(`${response.url()}\n${JSON.stringify(response.headers())}\n${text}`))
          .catch(() => undefined),
      );
    });
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 90_000);

  // A failing step leaves a picture of what the browser showed.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) await shot(`failed-${ctx.task.name.slice(0, 40).replace(/[^A-Za-z0-9]+/g, '-')}`).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await upstream?.close();
  });

  it('serves the built Studio at /studio with a self-only CSP and falls back to index.html', async () => {
    const index = await fetch(`${base}/studio`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toBe(STUDIO_CSP);
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const html = await index.text();
    const script = /src="(\/studio\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, html).toBeDefined();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const asset = await fetch(`${base}${script}`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const deep = await fetch(`${base}/studio/integrations/some-key/connections/acct-1`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    expect((await fetch(`${base}/studio/assets/missing.js`)).status).toBe(404);
  });

  it('signs in with an API key using only the keyboard, and keeps it in sessionStorage only', async () => {
    await page.goto(`${base}/studio`);
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    await page.keyboard.type('not-a-valid-key-0123456789abcdefghijkl');
    await page.keyboard.press('Enter');
    await page.getByText('That API key was not accepted').waitFor();
    await shot('01-sign-in');
    await page.getByLabel('API key').fill('');
    await page.keyboard.type(BOOTSTRAP_KEY);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Integrations', exact: true, level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/studio/integrations');
    await page.getByText('No integrations yet').waitFor();
    expect(await page.getByTestId('role').textContent()).toBe('admin');
    const local = await page.evaluate('JSON.stringify(Object.keys(localStorage))');
    expect(local).toBe('[]');
    const session = JSON.parse(String(await page.evaluate('JSON.stringify(Object.assign({}, sessionStorage))'))) as Record<string, string>;
    expect(session['latchkey.studio.apiKey']).toBe(BOOTSTRAP_KEY);
    expect(document_cookie(await context.cookies())).toBe('');
  });

  it('creates an integration through the form generated from the provider, with server errors next to their fields', async () => {
    await page.getByRole('link', { name: 'New integration' }).first().click();
    await page.getByPlaceholder('Search providers').fill('generic http');
    await page.locator('[data-provider="http"]').click();
    await page.getByRole('heading', { name: 'New Generic HTTP API integration' }).waitFor();
    await page.getByLabel('Key', { exact: true }).fill('upstream-api');
    await page.getByLabel('Display name').fill('Upstream API');
    await page.getByLabel('Auth method').selectOption('basic');
    // Fields come from the provider's parameters for the chosen auth method.
    await expect.poll(() => page.getByLabel('Auth header').count()).toBe(0);
    await page.getByLabel('API base URL').fill(upstream.url);
    await page.getByLabel('Test path').fill('/health');
    await page.getByLabel('Tags').fill('e2e, billing');
    const allowList = page.getByLabel('Private network allow-list');
    await allowList.fill('not a host!');
    await shot('02-integration-form');
    await page.getByRole('button', { name: 'Create integration' }).click();
    // A 422 problem whose errors[].path is networkAllowList.0: shown under that field, which gets focus.
    const fieldError = page.locator('.field', { has: allowList }).locator('.field-error');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/must be a host name/);
    expect(await allowList.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => allowList.evaluate((el) => el === (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement)).toBe(true);
    await shot('03-integration-form-error');
    await allowList.fill('');
    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.getByRole('heading', { name: 'Upstream API' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/studio/integrations/upstream-api');
    const stored = await api('GET', '/v1/integrations/upstream-api');
    expect(stored.body).toMatchObject({ provider: 'http', authMethod: 'basic', config: { baseUrl: upstream.url, testPath: '/health' }, tags: ['e2e', 'billing'] });
  });

  it('adds a connection, tests its unsaved credentials, saves it and tests it', async () => {
    upstream.accept(USERNAME, CANARY_OLD);
    await page.getByRole('navigation', { name: 'Integration sections' }).getByRole('link', { name: 'Connections' }).click();
    await page.getByText('No connections yet').waitFor();
    await page.getByRole('link', { name: 'Add connection' }).click();
    await page.getByLabel('Connection id').fill('acct-1');
    expect(await page.getByLabel('Credential type').inputValue()).toBe('basic');
    await page.getByLabel('Username').fill(USERNAME);
    await page.getByLabel('Password', { exact: true }).fill(CANARY_OLD);
    await page.getByLabel('Metadata', { exact: true }).fill('{"plan": "pro"}');
    await page.getByRole('button', { name: 'Test credentials' }).click();
    await page.locator('[data-testid="test-result"][data-ok="true"]').getByText('These credentials work').waitFor();
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.waitForURL(/\/studio\/integrations\/upstream-api\/connections\/acct-1$/);
    await page.locator('[data-status="active"]').first().waitFor();
    await page.locator('[data-action="test"]').click();
    await page.locator('[data-testid="test-result"][data-ok="true"]').getByText('Connection works').waitFor();
    await page.getByText('ok ·').first().waitFor(); // health recorded and shown
    await shot('04-connection-tested');
    const stored = await api('GET', '/v1/integrations/upstream-api/connections/acct-1');
    expect(stored.body).toMatchObject({ metadata: { plan: 'pro' }, credentials: { type: 'basic', hasSecrets: { username: true, password: true } }, health: { ok: true } });
    expectNoCanary(await pageText());
  });

  it('replaces one secret and carries the other forward; a replacement that fails its test is not saved', async () => {
    // A wrong new password: the update tests first (verify) and refuses it, showing the result.
    const unchanged = (await api('GET', '/v1/integrations/upstream-api/connections/acct-1')).body;
    await page.getByRole('button', { name: 'Replace Password' }).click();
    await page.getByLabel('Password', { exact: true }).fill(CANARY_WRONG);
    await page.getByRole('button', { name: 'Save credentials' }).click();
    await page.locator('[data-testid="test-result"][data-ok="false"]').getByText('Not saved').waitFor();
    expect(upstream.seen.at(-1)).toBe(`${USERNAME}:${CANARY_WRONG}`);
    expect((await api('GET', '/v1/integrations/upstream-api/connections/acct-1')).body).toEqual(unchanged);

    // The right one: only the password is sent; the username is kept by the server.
    upstream.accept(USERNAME, CANARY_NEW);
    await page.getByLabel('Password', { exact: true }).fill(CANARY_NEW);
    await page.getByRole('button', { name: 'Save credentials' }).click();
    await page.getByText('Credentials saved').waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Replace Password' }).count()).toBe(1); // back to set / not set
    const before = upstream.seen.length;
    const tested = await api('POST', '/v1/integrations/upstream-api/connections/acct-1/test');
    expect(tested.body).toMatchObject({ ok: true });
    expect(upstream.seen.slice(before)).toEqual([`${USERNAME}:${CANARY_NEW}`]);
    const stored = await api('GET', '/v1/integrations/upstream-api/connections/acct-1');
    expect(stored.body.credentials.hasSecrets).toEqual({ username: true, password: true });
    const audit = await api('GET', '/v1/audit-events?action=integrations.connection.update&outcome=success');
    expect(audit.body.data[0].changes.secretsChanged).toEqual(['password']);
    await shot('05-connection-secret-replaced');
    expectNoCanary(await pageText());
  });

  it('edits the metadata of a connection, offering a reload when the record changed meanwhile', async () => {
    // The API test above recorded health, a newer version than the page holds: If-Match refuses.
    const editor = page.getByRole('form', { name: 'Metadata and labels' });
    await editor.getByLabel('Metadata').fill('{"plan": "stale"}');
    await editor.getByRole('button', { name: 'Save metadata' }).click();
    await editor.getByRole('button', { name: 'Reload the latest version' }).click();
    await expect.poll(() => editor.getByLabel('Metadata').inputValue()).toContain('"pro"');
    await editor.getByLabel('Metadata').fill('{"plan": "enterprise", "seats": 40}');
    await editor.getByLabel('Labels').fill('team=billing');
    await editor.getByRole('button', { name: 'Save metadata' }).click();
    await page.getByText('Metadata saved').waitFor();
    const stored = await api('GET', '/v1/integrations/upstream-api/connections/acct-1');
    expect(stored.body).toMatchObject({ metadata: { plan: 'enterprise', seats: 40 }, labels: { team: 'billing' } });
    await editor.getByLabel('Metadata').fill('{"plan": ');
    await editor.getByRole('button', { name: 'Save metadata' }).click();
    await editor.getByText('is not valid JSON', { exact: false }).waitFor();
  });

  it('lists connections across integrations with status badges', async () => {
    await nav('Connections');
    await page.locator('tr[data-connection="acct-1"] [data-status="active"]').waitFor();
    await page.getByLabel('Status').selectOption('error');
    await page.getByText('No connections match').waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.locator('tr[data-connection="acct-1"]').waitFor();
    await shot('06-connections');
  });

  it('creates an API key with a role and shows it once', async () => {
    await nav('API keys');
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name', { exact: true }).fill('ci-runtime');
    await dialog.getByLabel('runtime').check();
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const value = await page.getByTestId('new-key-value').inputValue();
    expect(value).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    await page.locator('tr[data-key-name="ci-runtime"]').getByText('runtime', { exact: true }).waitFor();
    await shot('07-api-key-created');
    const asRuntime = await server.request('GET', '/v1/connections', { key: value });
    expect(asRuntime.status).toBe(200);
    expect((await server.request('GET', '/v1/api-keys', { key: value })).status).toBe(403);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    expect(await page.content()).not.toContain(value);
  });

  it('creates a connect link for an OAuth integration, ready to copy for the end user', async () => {
    expect((await api('POST', '/v1/integrations', githubIntegration('github-prod', CANARY_CLIENT))).status).toBe(201);
    await page.goto(`${base}/studio/integrations/github-prod?tab=connections`);
    await page.getByRole('button', { name: 'Create connect link' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create connect link' });
    await dialog.getByLabel('Connection id').fill('user-42');
    await dialog.getByLabel('Redirect URL').fill('https://app.example.com/settings');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByTestId('connect-url').inputValue();
    expect(url).toMatch(/\/connect\/[A-Za-z0-9_-]{20,}$/);
    await shot('08-connect-link');
    await dialog.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(url); // a one-time token: forgotten with the dialog
    // The client secret is only ever "set" on the integration's form.
    await page.getByRole('navigation', { name: 'Integration sections' }).getByRole('link', { name: 'Settings' }).click();
    await page.locator('[data-secret-field="secrets.clientSecret"] [data-secret-state="set"]').waitFor();
  });

  it('adds a webhook endpoint and shows its signing secret once', async () => {
    await nav('Webhooks');
    await page.getByText('No webhook endpoints').waitFor();
    await page.getByRole('button', { name: 'New endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'New webhook endpoint' });
    await dialog.getByLabel('URL').fill(`${upstream.url}/hooks`);
    await dialog.getByRole('button', { name: 'Create endpoint' }).click();
    const secret = await page.getByLabel('Signing secret').inputValue();
    expect(secret).toMatch(/^whsec_/);
    await page.getByText(`${upstream.url}/hooks`).waitFor();
    await shot('09-webhooks');
    await page.getByRole('button', { name: 'I have stored it' }).click();
    expect(await page.content()).not.toContain(secret);
  });

  it('shows the audit log with the chain verified, and filters it', async () => {
    await nav('Audit log');
    await page.locator('[data-testid="chain-status"][data-ok="true"]').waitFor();
    const verifications = await api('GET', '/v1/audit-events?action=audit.chain.verify');
    expect(verifications.body.data).toHaveLength(1); // opening the page verifies once
    await page.locator('tr[data-action="access.apiKey.create"]').first().waitFor();
    // The replaced secret is named in its event, never its value.
    await page.locator('tr[data-action="integrations.connection.update"]').getByText('password', { exact: true }).first().waitFor();
    await shot('10-audit');
    await page.getByLabel('Action').fill('integrations.integration.create');
    await page.getByRole('button', { name: 'Apply' }).click();
    // upstream-api (through the form) and github-prod (through the API), nothing else.
    await expect
      .poll(() => attributes('tbody tr[data-action]', 'data-action'))
      .toEqual(['integrations.integration.create', 'integrations.integration.create']);
  });

  it('browses the provider catalog by category and search', async () => {
    await nav('Providers');
    await page.getByRole('button', { name: 'database' }).click();
    await expect.poll(() => attributes('[data-provider]', 'data-provider')).toEqual(['postgresql']);
    await page.getByRole('button', { name: 'All', exact: true }).click();
    await page.getByPlaceholder('Search providers').fill('git');
    await expect.poll(async () => (await attributes('[data-provider]', 'data-provider')).sort()).toEqual(['github', 'gitlab']);
    await page.locator('[data-provider="github"]').click();
    await page.getByRole('heading', { name: 'Parameters' }).waitFor();
    await shot('11-provider');
  });

  it('works at 390 px wide: no sideways scrolling, navigation behind a menu button', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/studio/integrations`);
    await page.locator('tr[data-integration="upstream-api"]').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot('12-mobile-integrations');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connections' }).click();
    await page.locator('tr[data-connection="acct-1"]').waitFor();
    await page.locator('tr[data-connection="acct-1"] a').first().click();
    await page.locator('[data-action="test"]').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot('13-mobile-connection');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('never lets a typed secret reach the DOM, storage or any response the page received; signing out clears the key', async () => {
    expectNoCanary(await pageText());
    expectNoCanary(String(await page.evaluate('JSON.stringify(Object.assign({}, sessionStorage)) + JSON.stringify(Object.assign({}, localStorage))')));
    await Promise.all(pending);
    expect(bodies.length).toBeGreaterThan(20);
    for (const body of bodies) expectNoCanary(body);
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('shows a viewer only what its role allows: no API keys, no create, read-only forms', async () => {
    const created = await api('POST', '/v1/api-keys', { name: 'Studio viewer', role: 'viewer' });
    expect(created.status, created.text).toBe(201);
    const viewerKey: string = created.body.key;
    /** Refusals audited for the viewer's key: role detection asks GET /v1/me and tries nothing it might not hold. */
    const denials = async () => (await api('GET', `/v1/audit-events?outcome=denied&actorKeyId=${created.body.apiKey.id}`)).body.data as unknown[];
    await page.getByLabel('API key').fill(viewerKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('role').waitFor(); // back on the page it was signed out from
    expect(await page.getByTestId('role').textContent()).toBe('viewer');
    expect(await page.getByText('Studio viewer').count()).toBeGreaterThan(0); // the key's name, from GET /v1/me
    expect(await denials()).toEqual([]);
    expect(await page.locator('[data-action="test"]').count()).toBe(0);
    await nav('Integrations');
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Integrations', 'Connections', 'Providers', 'Audit log']);
    await page.locator('tr[data-integration="upstream-api"] a').click();
    await page.getByLabel('Display name').waitFor();
    expect(await page.getByLabel('Display name').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    expect(await denials()).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });
});

/** Cookies as one string: the Studio sets none. */
function document_cookie(cookies: { name: string; value: string }[]): string {
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}
