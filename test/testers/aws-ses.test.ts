import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboundGuard } from '../../src/net/outbound-guard.js';
import { runConnectionTest } from '../../src/testers/run-connection-test.js';
import { signSigV4 } from '../../src/testers/sigv4.js';
import type { TestResult } from '../../src/testers/test-result.js';
import { catalogProvider, expectNoSecrets, target } from './support/targets.js';

const ACCESS_KEY = 'AKIACANARY0000000001';
const SECRET_KEY = 'canarySecret/Key+0123456789abcdefghijklmn';
const SESSION_TOKEN = 'canarySessionToken//+==';
const REGION = 'eu-west-1';

/**
 * An independent SigV4 check, written from the AWS documentation rather than shared with the
 * code under test: rebuild the canonical request from what arrived on the wire and compare.
 */
function verifySigV4(req: IncomingMessage, secrets: Record<string, string>): string | null {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'IncompleteSignatureException';
  const [, keyId, day, region, service, signedHeaders, signature] = m as unknown as string[];
  const secret = secrets[keyId!];
  if (!secret) return 'UnrecognizedClientException';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(day!) || service !== 'ses') return 'IncompleteSignatureException';
  const url = new URL(req.url ?? '/', 'http://x');
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const path = url.pathname.split('/').map(enc).join('/');
  const query = [...url.searchParams].map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
  const names = signedHeaders!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'IncompleteSignatureException';
  const headers = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');
  const canonical = [req.method, path, query, headers, signedHeaders, hash('')].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${day}/${region}/${service}/aws4_request`, hash(canonical)].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(day!).digest();
  for (const part of [region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex') === signature ? null : 'InvalidSignatureException';
}

let server: Server;
let endpoint: string;
let respond: (req: IncomingMessage, res: ServerResponse) => void;
let seen: IncomingMessage[];
const failures: TestResult[] = [];
const CANARIES = [SECRET_KEY, SESSION_TOKEN];

const awsError = (res: ServerResponse, status: number, type: string, message: string) => {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.coral.service/` });
  res.end(JSON.stringify({ message }));
};
/** An SES look-alike answering GetAccount at `path` to correctly signed requests only. */
const sesAt = (path: string) => (req: IncomingMessage, res: ServerResponse) => {
  const problem = verifySigV4(req, { [ACCESS_KEY]: SECRET_KEY });
  if (problem) return awsError(res, 403, problem, `The request signature we calculated does not match. Authorization: ${req.headers.authorization}`);
  if (req.url !== path || req.method !== 'GET') return awsError(res, 404, 'NotFoundException', 'no such route');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ SendingEnabled: true, ProductionAccessEnabled: false, EnforcementStatus: 'HEALTHY', SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 0 } }));
};

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    respond(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  for (const result of failures) expectNoSecrets(result, CANARIES);
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen = [];
  respond = sesAt('/v2/email/account');
});

const ses = catalogProvider('aws_ses');
const guard = new OutboundGuard({ allowList: ['127.0.0.1/32'] });
const sesTarget = (fields: Record<string, unknown>, connection: Record<string, unknown> = {}) =>
  target(ses, 'custom', { type: 'aws_sigv4', fields }, { connection: { region: REGION, endpoint, ...connection } });
const run = async (t: ReturnType<typeof sesTarget>) => {
  const result = await runConnectionTest(t, { guard, timeoutMs: 3000 });
  if (!result.ok) failures.push(result);
  return result;
};

describe('aws_ses tester against a SigV4-verifying server', () => {
  it('the right secret → ok, with account details', async () => {
    const result = await run(sesTarget({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }));
    expect(result).toMatchObject({
      ok: true,
      error: null,
      details: { status: 200, region: REGION, sendingEnabled: true, productionAccessEnabled: false, enforcementStatus: 'HEALTHY', sendQuota: { max24HourSend: 200 } },
    });
    expect(seen[0]?.headers.authorization).toMatch(new RegExp(`Credential=${ACCESS_KEY}/\\d{8}/${REGION}/ses/aws4_request`));
  });

  it('a session token is sent and signed', async () => {
    const result = await run(sesTarget({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN }));
    expect(result.ok).toBe(true);
    expect(seen[0]?.headers['x-amz-security-token']).toBe(SESSION_TOKEN);
    expect(seen[0]?.headers.authorization).toContain('x-amz-security-token');
  });

  it('an endpoint with a base path keeps it (and signs it)', async () => {
    respond = sesAt('/ses-proxy/v2/email/account');
    const result = await run(sesTarget({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, { endpoint: `${endpoint}/ses-proxy/` }));
    expect(result.ok).toBe(true);
  });

  it('a wrong secret → auth_failed, and the echoed Authorization is harmless', async () => {
    const wrong = 'wrongSecret/Key+0000000000000000000000000';
    const result = await run(sesTarget({ accessKeyId: ACCESS_KEY, secretAccessKey: wrong }));
    expect(result).toMatchObject({ ok: false, error: { code: 'auth_failed' }, details: { status: 403, awsErrorType: 'InvalidSignatureException' } });
    expectNoSecrets(result, [wrong]);
  });

  it('an unknown access key → auth_failed', async () => {
    const result = await run(sesTarget({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: SECRET_KEY }));
    expect(result).toMatchObject({ error: { code: 'auth_failed' }, details: { awsErrorType: 'UnrecognizedClientException' } });
  });

  it('valid credentials without ses:GetAccount → permission_denied', async () => {
    respond = (_req, res) => awsError(res, 403, 'AccessDeniedException', 'User is not authorized to perform: ses:GetAccount');
    const result = await run(sesTarget({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }));
    expect(result.error?.code).toBe('permission_denied');
  });

  it('a server error → unexpected_status; a non-JSON 200 → invalid_response', async () => {
    respond = (_req, res) => awsError(res, 500, 'InternalFailure', `failed for ${SECRET_KEY}`);
    expect((await run(sesTarget({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }))).error?.code).toBe('unexpected_status');
    respond = (_req, res) => res.writeHead(200).end('<html>');
    expect((await run(sesTarget({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }))).error?.code).toBe('invalid_response');
  });

  it('missing region or keys → misconfigured, and nothing is sent', async () => {
    expect((await run(sesTarget({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, { region: undefined }))).error?.code).toBe('misconfigured');
    expect((await run(sesTarget({ accessKeyId: ACCESS_KEY }))).error?.code).toBe('misconfigured');
    expect(seen).toEqual([]);
  });
});

describe('signSigV4 against the AWS Signature Version 4 test suite', () => {
  const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const at = new Date('2015-08-30T12:36:00Z');

  it('get-vanilla', () => {
    const headers = signSigV4({ method: 'GET', url: new URL('https://example.amazonaws.com/') }, creds, { region: 'us-east-1', service: 'service' }, at);
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
  });

  it('the IAM ListUsers example (query string and content-type)', () => {
    const headers = signSigV4(
      { method: 'GET', url: new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08'), headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } },
      creds,
      { region: 'us-east-1', service: 'iam' },
      at,
    );
    expect(headers.authorization).toMatch(/SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7$/);
  });
});
