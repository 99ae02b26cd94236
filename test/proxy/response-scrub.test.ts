import { describe, expect, it } from 'vitest';
import { NOTHING_SENT, scrubInjectedCredentials, secretForms } from '../../src/proxy/response-scrub.js';

const SECRET = 'k3y/with space+plus';
const sent = { queryParam: 'api_key', values: secretForms([SECRET]) };

describe('scrubInjectedCredentials', () => {
  it('removes the credential parameter from URL headers however its name is encoded, keeping the rest byte for byte', () => {
    const out = scrubInjectedCredentials(
      {
        location: '/a?x=%2F&api%5Fkey=whatever&y=1#frag',
        'content-location': 'https://h/b?api_key=1',
        link: '<https://h/c?api_key=1&page=2>; rel="next"; title="why?"',
        refresh: "5; url='https://h/d?page=3&api_key=1'",
      },
      sent,
    );
    expect(out).toEqual({
      location: '/a?x=%2F&y=1#frag',
      'content-location': 'https://h/b',
      link: '<https://h/c?page=2>; rel="next"; title="why?"',
      refresh: "5; url='https://h/d?page=3'",
    });
  });

  it('leaves URL headers without the parameter, and other headers\' queries, as they are', () => {
    const headers = { location: '/a?#x', 'x-next': '/a?api_key=1', etag: '"v1"' };
    expect(scrubInjectedCredentials(headers, { queryParam: 'api_key', values: [] })).toEqual(headers);
    expect(scrubInjectedCredentials(headers, NOTHING_SENT)).toBe(headers);
  });

  it('redacts the secret raw, percent-encoded (either hex case) and form-encoded, in every header and every value of a list', () => {
    const out = scrubInjectedCredentials(
      { 'x-a': `raw ${SECRET}`, 'x-b': ['k3y%2Fwith%20space%2Bplus', 'k3y%2fwith%20space%2bplus'], 'x-c': 'q=k3y%2Fwith+space%2Bplus', 'content-length': 12 },
      sent,
    );
    expect(out).toEqual({ 'x-a': 'raw REDACTED', 'x-b': ['REDACTED', 'REDACTED'], 'x-c': 'q=REDACTED', 'content-length': 12 });
  });

  it('does not search for values too short to be told from ordinary text', () => {
    expect(secretForms(['a', 'abcde'])).toEqual([]);
    expect(scrubInjectedCredentials({ 'content-type': 'application/json' }, { queryParam: null, values: secretForms(['a']) })).toEqual({ 'content-type': 'application/json' });
  });
});
