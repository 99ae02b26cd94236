import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import { parseProxyUrl, upstreamTarget, withQueryParam } from '../../src/proxy/proxy-path.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LatchkeyError);
    return error as LatchkeyError;
  }
  throw new Error('expected a refusal');
};

describe('parseProxyUrl', () => {
  it('splits key, id, raw path and raw query', () => {
    expect(parseProxyUrl('/v1/proxy/github-prod/user:42@acme/repos/a/b?per_page=5&q=a%2Fb')).toEqual({
      key: 'github-prod',
      id: 'user:42@acme',
      path: '/repos/a/b',
      query: 'per_page=5&q=a%2Fb',
    });
    expect(parseProxyUrl('/v1/proxy/k/c')).toEqual({ key: 'k', id: 'c', path: '', query: '' });
    expect(parseProxyUrl('/v1/proxy/k/c/')).toEqual({ key: 'k', id: 'c', path: '/', query: '' });
    expect(parseProxyUrl('/v1/proxy/k/c/a/?')).toEqual({ key: 'k', id: 'c', path: '/a/', query: '' });
  });

  it.each([
    '/v1/proxy/k/c/..',
    '/v1/proxy/k/c/a/../b',
    '/v1/proxy/k/c/%2e',
    '/v1/proxy/k/c/%2E%2e',
    '/v1/proxy/k/c/a%2fb',
    '/v1/proxy/k/c/a%5Cb',
    '/v1/proxy/k/c/a\\b',
    '/v1/proxy/k/c//host',
    '/v1/proxy/k/c/https://host/',
    '/v1/proxy/k/c/a b',
    '/v1/proxy/k/c/caf\u00e9',
    '/v1/proxy/k/c/%',
    '/v1/proxy/k/c/%e2%28',
    '/v1/proxy/k/c/x?a=1#frag',
    '/v1/proxy/k/c/x?a=\\',
    '/v2/other',
  ])('refuses %s with 400 proxy_path_refused', (target) => {
    const error = refusal(() => parseProxyUrl(target));
    expect(error.code).toBe('bad_request');
    expect(error.reason).toBe('proxy_path_refused');
  });

  it('refuses a malformed key or id with 422 naming the field', () => {
    const error = refusal(() => parseProxyUrl('/v1/proxy/bad%20key/c%2Fd/x'));
    expect(error.code).toBe('validation_failed');
    expect(error.errors?.map((e) => e.path).sort()).toEqual(['id', 'key']);
    expect(refusal(() => parseProxyUrl('/v1/proxy/k')).code).toBe('validation_failed');
  });

  it('leaves encoded slashes in the query alone (they are data there)', () => {
    expect(parseProxyUrl('/v1/proxy/k/c/x?next=%2F..%2Fadmin').query).toBe('next=%2F..%2Fadmin');
  });
});

describe('upstreamTarget', () => {
  const address = (path: string, query = '') => ({ key: 'k', id: 'c', path, query });

  it('joins below the base path, merging the base URL\'s query first', () => {
    expect(upstreamTarget(new URL('https://api.example.com/v1/'), address('/charges', 'limit=3')).requestTarget).toBe('/v1/charges?limit=3');
    expect(upstreamTarget(new URL('https://api.example.com'), address('')).requestTarget).toBe('/');
    expect(upstreamTarget(new URL('https://api.example.com/v1'), address('')).requestTarget).toBe('/v1');
    expect(upstreamTarget(new URL('https://api.example.com/v1?api-version=2'), address('/x', 'a=1')).requestTarget).toBe('/v1/x?api-version=2&a=1');
    expect(upstreamTarget(new URL('https://api.example.com:8443/v1'), address('/x')).url.origin).toBe('https://api.example.com:8443');
  });

  it('is a second line of defence: an address that escapes (had it got past the parser) is refused', () => {
    for (const path of ['/../admin', '/a/%2e%2e/%2e%2e/admin', '/./x', '/a\\..\\..\\b']) {
      expect(refusal(() => upstreamTarget(new URL('https://api.example.com/v1'), address(path))).reason, path).toBe('proxy_path_refused');
    }
    expect(refusal(() => upstreamTarget(new URL('https://api.example.com'), address('//evil.example/x'))).reason).toBe('proxy_path_refused');
  });
});

describe('withQueryParam', () => {
  it('replaces the caller\'s parameter of that name (also encoded) and keeps the others byte for byte', () => {
    expect(withQueryParam('', 'api_key', 'k&1')).toBe('api_key=k%261');
    expect(withQueryParam('q=a%2Fb&api_key=mine&x=1+2', 'api_key', 's')).toBe('q=a%2Fb&x=1+2&api_key=s');
    expect(withQueryParam('api%5Fkey=mine&api_key&a=', 'api_key', 's')).toBe('a=&api_key=s');
  });
});
