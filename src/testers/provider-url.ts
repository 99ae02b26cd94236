import type { TestTarget } from './connection-tester.js';
import { configValue } from './target-config.js';
import { TestFailure } from './test-result.js';

// A placeholder inside a larger template (`https://{subdomain}.zendesk.com`) must stay one
// host label or path segment: a value with `/`, `@`, `?` or `#` would re-aim the URL.
const PLACEHOLDER_VALUE = /^[A-Za-z0-9._~:[\]-]+$/;

/**
 * Fills `{param}` placeholders of a provider URL template from `valueOf`. A template that
 * is a single placeholder (`{baseUrl}` of the generic providers) takes the whole value;
 * inside a larger template a value must stay one host label or path segment.
 *
 * @example
 * ```ts
 * fillUrlTemplate('https://{host}/oauth/token', (n) => ({ host: 'gitlab.example.com' })[n]); // 'https://gitlab.example.com/oauth/token'
 * ```
 */
export function fillUrlTemplate(template: string, valueOf: (name: string) => unknown, fail: (message: string) => Error): string {
  const whole = /^\{([A-Za-z0-9]+)\}$/.exec(template);
  return template.replace(/\{([A-Za-z0-9]+)\}/g, (_match, name: string) => {
    const value = valueOf(name);
    if (value === undefined) throw fail(`${name} is not set (needed by the provider's URL)`);
    const text = String(value);
    if (!whole && !PLACEHOLDER_VALUE.test(text)) throw fail(`${name} contains characters not allowed in the provider's URL`);
    return text;
  });
}

/**
 * The provider's `baseUrl` with `{param}` placeholders filled from the connection's and the
 * integration's config.
 *
 * @example
 * ```ts
 * fillBaseUrl('https://{subdomain}.zendesk.com', target); // 'https://acme.zendesk.com'
 * ```
 */
export function fillBaseUrl(template: string, target: TestTarget): string {
  return fillUrlTemplate(template, (name) => configValue(target, name), (message) => new TestFailure('misconfigured', message));
}

/**
 * The absolute URL of the provider's test request: base URL joined with the test path (the
 * generic providers take the path from `config.testPath`). Query strings of both are kept.
 *
 * @example
 * ```ts
 * testRequestUrl(target, '/user'); // URL('https://gitlab.example.com/api/v4/user')
 * ```
 */
export function testRequestUrl(target: TestTarget, declaredPath: string): URL {
  const template = target.provider.baseUrl;
  if (!template) throw new TestFailure('misconfigured', `provider ${target.provider.key} declares no base URL`);
  let base: URL;
  try {
    base = new URL(fillBaseUrl(template, target));
  } catch (error) {
    if (error instanceof TestFailure) throw error;
    throw new TestFailure('misconfigured', 'the base URL is not a valid URL');
  }
  const configuredPath = target.provider.generic ? configValue(target, 'testPath') : undefined;
  const path = typeof configuredPath === 'string' && configuredPath.startsWith('/') ? configuredPath : declaredPath;
  const [pathname, query] = path.split('?', 2) as [string, string | undefined];
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}${pathname}`;
  if (query) for (const [k, v] of new URLSearchParams(query)) url.searchParams.append(k, v);
  url.hash = '';
  return url;
}
