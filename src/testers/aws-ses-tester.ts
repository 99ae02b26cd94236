import type { IncomingHttpHeaders } from 'node:http';
import type { ConnectionTester } from './connection-tester.js';
import { bodySnippet, sendGuardedRequest } from './http-exchange.js';
import { signSigV4 } from './sigv4.js';
import { configString, credentialString } from './target-config.js';
import { passed, TestFailure } from './test-result.js';

/** AWS error types that mean "these credentials are not valid", as opposed to "not allowed". */
const AUTH_ERRORS = new Set([
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidAccessKeyId',
  'AuthFailure',
]);
const PERMISSION_ERRORS = new Set(['AccessDeniedException', 'AccessDenied']);

/** The AWS error type from `x-amzn-ErrorType` or a JSON/XML body (`__type`, `code`, `<Code>`). */
function awsErrorType(headers: IncomingHttpHeaders, body: string): string | undefined {
  const header = headers['x-amzn-errortype'];
  if (typeof header === 'string' && header) return header.split(':')[0];
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const type = json.__type ?? json.code ?? json.Code;
    if (typeof type === 'string') return type.split('#').pop();
  } catch {
    // not JSON; try XML below
  }
  return /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
}

/**
 * Proves AWS credentials against SES with a SigV4-signed SESv2 `GetAccount`
 * (`GET /v2/email/account`) to `https://email.{region}.amazonaws.com` or `config.endpoint`.
 * An invalid key or signature is `auth_failed`; a valid key without `ses:GetAccount` is
 * `permission_denied`, which tells the operator the credentials themselves are fine.
 *
 * @example
 * ```ts
 * await awsSesTester.test(target, { timeoutMs: 10_000, guard, signal });
 * // { ok: true, details: { sendingEnabled: true, productionAccessEnabled: false, … } }
 * ```
 */
export const awsSesTester: ConnectionTester = {
  kind: 'aws_ses',
  async test(target, { timeoutMs, guard, signal }) {
    const region = configString(target, 'region');
    if (!region) throw new TestFailure('misconfigured', 'region is not set (it is needed to sign the request)');
    const endpoint = configString(target, 'endpoint') ?? `https://email.${region}.amazonaws.com`;
    const accessKeyId = credentialString(target, 'accessKeyId');
    const secretAccessKey = credentialString(target, 'secretAccessKey');
    if (!accessKeyId || !secretAccessKey) throw new TestFailure('misconfigured', 'the credentials need accessKeyId and secretAccessKey');
    const sessionToken = credentialString(target, 'sessionToken');

    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new TestFailure('misconfigured', 'endpoint is not a valid URL');
    }
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v2/email/account`;
    url.search = '';
    const shown = `${url.origin}${url.pathname}`;
    const headers = signSigV4({ method: 'GET', url, headers: { accept: 'application/json' } }, { accessKeyId, secretAccessKey, sessionToken }, { region, service: 'ses' });

    const started = performance.now();
    const res = await sendGuardedRequest({ method: 'GET', url, headers, guard, signal, timeoutMs, maxBodyBytes: 256 * 1024 });
    const text = res.body.toString('utf8');
    const details: Record<string, unknown> = { status: res.status, url: shown, region };

    if (res.status !== 200) {
      const type = awsErrorType(res.headers, text);
      if (type) details.awsErrorType = type;
      const message = `GET ${shown} answered ${res.status}${type ? ` ${type}` : ''}: ${bodySnippet(res.body)}`;
      if ((type && AUTH_ERRORS.has(type)) || (!type && (res.status === 401 || res.status === 403))) throw new TestFailure('auth_failed', message, details);
      if (type && PERMISSION_ERRORS.has(type)) throw new TestFailure('permission_denied', message, details);
      if (res.status === 401 || res.status === 403) throw new TestFailure('auth_failed', message, details);
      throw new TestFailure('unexpected_status', message, details);
    }
    let account: Record<string, unknown>;
    try {
      account = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new TestFailure('invalid_response', `GET ${shown} did not answer with JSON`, details);
    }
    if (account === null || typeof account !== 'object' || Array.isArray(account)) throw new TestFailure('invalid_response', `GET ${shown} did not answer with an account object`, details);
    const quota = account.SendQuota as Record<string, unknown> | undefined;
    return passed(started, {
      ...details,
      sendingEnabled: account.SendingEnabled,
      productionAccessEnabled: account.ProductionAccessEnabled,
      enforcementStatus: account.EnforcementStatus,
      ...(quota && typeof quota === 'object' ? { sendQuota: { max24HourSend: quota.Max24HourSend, maxSendRate: quota.MaxSendRate, sentLast24Hours: quota.SentLast24Hours } } : {}),
    });
  },
};
