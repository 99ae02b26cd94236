/**
 * Hostile values for the contract fuzzer: JSON values of the wrong shape, strings that
 * break naive code, malformed bodies, odd media types, hostile path segments, query
 * strings and headers. Everything here is data; test/fuzz/fuzz-requests.ts decides where
 * it goes.
 */
import fc from 'fast-check';

/** A JSON value whose nesting is `depth` arrays (or objects) deep. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

/** `JSON.parse` keeps `__proto__` as an own key, which is exactly what a hostile client sends. */
const protoObject = (): unknown => JSON.parse('{"__proto__":{"polluted":"yes","isAdmin":true}}');
const constructorObject = (): unknown => JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}');

const manyKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

/** Strings that have broken parsers, validators, loggers or SQL before. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202eevil',
  '\u200b',
  '\ufeff',
  'ü🙂𝔘',
  '********',
  '__REDACTED__',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '%00',
  '%2e%2e%2f',
  "' OR 1=1 --",
  '"; drop table connections; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  'true',
  'null',
  '2026-13-45T25:61:61Z',
  'x'.repeat(256),
  'é'.repeat(4097),
  'x'.repeat(70_000),
];

/** JSON values meant to be of the wrong type, size or shape wherever they land. */
export const evilJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 1.5, -0, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 5e-324, 2_147_483_648) },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
  { weight: 1, arbitrary: fc.constantFrom([], [null], [1, 'a', {}], Array.from({ length: 5000 }, (_, i) => i)) },
  { weight: 1, arbitrary: fc.constantFrom({}, { '': '' }, manyKeys(2000)) },
  { weight: 1, arbitrary: fc.constant(null).map(protoObject) },
  { weight: 1, arbitrary: fc.constant(null).map(constructorObject) },
  { weight: 1, arbitrary: fc.constantFrom(32, 200, 2_000).chain((d) => fc.constantFrom(deeplyNested(d, 'array'), deeplyNested(d, 'object'))) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Keys a hostile client adds to an object. */
export const EVIL_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', ' ', 'unknownField', 'tenantId', 'uid', 'version', 'id', 'x'.repeat(300), '\u0000', 'ü🙂'];

/** A body of 2 MiB: over the default 1 MiB limit (413). */
const HUGE_BODY = `{"displayName":"${'x'.repeat(2 * 1024 * 1024)}"}`;

/** Request bodies that are not (the expected) JSON. */
export const RAW_BODIES: readonly (string | Buffer)[] = [
  '',
  ' ',
  '{',
  '}',
  '{"a":',
  '[]',
  '[{}]',
  '"just a string"',
  '123',
  'null',
  'true',
  '{"a":1,}',
  "{'a':1}",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":1e999}',
  `{"a":1${'0'.repeat(400)}}`,
  '\ufeff{}',
  '{}garbage',
  '{} {}',
  '{"a":"\\x41"}',
  '{"a":"\\ud800"}',
  '{"name":"a","name":"b"}',
  '{"__proto__":{"isAdmin":true}}',
  '{"a":{"__proto__":{"isAdmin":true}}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  `{"metadata":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`,
  `{"metadata":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0x22, 0x7d]),
  Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
  HUGE_BODY,
];

/** `Content-Type` values to send with a body (`null`: no header at all). */
export const CONTENT_TYPES: readonly (string | null)[] = [
  null,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json;;;',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/problem+json',
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/jsonx',
  '*/*',
  '',
  'garbage',
];

/**
 * Path segments sent as is (already percent-encoded where needed): traversal, encoded
 * separators, invalid percent-escapes and UTF-8, overlong values, reserved names.
 */
export const PATH_SEGMENTS: readonly string[] = [
  '..',
  '.',
  '%2e%2e',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..%2f..%2f..%2f',
  '..%5c..%5c',
  'a%2Fb',
  '%2F',
  '%00',
  'a%00b',
  '%ff',
  '%c0%af',
  '%e2%82',
  '%',
  '%zz',
  '%25',
  'a%20b',
  encodeURIComponent('ü🙂'),
  encodeURIComponent('\u202e'),
  '%3Cscript%3E',
  "!$&'()*+,;=",
  '~',
  '@',
  ':',
  'CON',
  '__proto__',
  'constructor',
  '%5F%5Fproto%5F%5F',
  'x'.repeat(256),
  'x'.repeat(700),
  'x'.repeat(9_000),
];

/** Query values for any query parameter. */
export const QUERY_VALUES: readonly string[] = [
  '',
  '-1',
  '0',
  '1e3',
  '999999999999999999999',
  '1.5',
  'abc',
  'NaN',
  'true',
  'yes',
  '%00',
  '%ff',
  '%',
  'ü',
  '%ED%A0%80',
  'x'.repeat(5_000),
  Buffer.from('{"after":{"$gt":""}}').toString('base64url'),
  Buffer.from('{"after":123}').toString('base64url'),
  Buffer.from('not json').toString('base64url'),
  '____',
  '2026-13-45',
  encodeURIComponent("' OR 1=1 --"),
];

/** Header values for headers the API reads. */
export const HEADER_VARIANTS: readonly Record<string, string>[] = [
  { 'if-match': '' },
  { 'if-match': '*' },
  { 'if-match': '"abc"' },
  { 'if-match': 'W/"1"' },
  { 'if-match': '"99999999999999999999"' },
  { 'if-match': ',' },
  { 'if-match': '"1", "2"' },
  { 'idempotency-key': '' },
  { 'idempotency-key': ' ' },
  { 'idempotency-key': 'x'.repeat(300) },
  { 'idempotency-key': 'fuzz-key-\u00e9' },
  { 'idempotency-key': 'fuzz-idem-fixed' },
  { 'x-request-id': 'x'.repeat(200) },
  { 'x-request-id': '../../etc' },
  { accept: 'application/xml' },
  { accept: 'text/html' },
  { 'content-encoding': 'gzip' },
  { 'content-encoding': 'br' },
  { 'transfer-encoding': 'chunked' },
];

/** `Authorization` / `X-API-Key` shapes that are not a valid key. */
export const BAD_AUTH: readonly Record<string, string>[] = [
  {},
  { authorization: 'Bearer' },
  { authorization: 'Bearer ' },
  { authorization: 'Basic dXNlcjpwYXNz' },
  { authorization: `Bearer ${'x'.repeat(600)}` },
  { authorization: 'Bearer lk_not-a-real-key-0123456789abcdefghijklmnop' },
  { 'x-api-key': '' },
  { 'x-api-key': 'short' },
  { authorization: 'Bearer a b c' },
];
