import { describe, expect, it } from 'vitest';
import {
  OAuth1ParameterError,
  formParameters,
  hmacSha1Signature,
  oauth1Authorization,
  percentEncode,
  signatureBaseString,
} from '../../src/testers/oauth1-signature.js';

/** The header's parameters, decoded. */
function headerParams(header: string): Record<string, string> {
  expect(header.startsWith('OAuth ')).toBe(true);
  const out: Record<string, string> = {};
  for (const m of header.slice(6).matchAll(/([a-z_]+)="([^"]*)"/g)) out[m[1]!] = decodeURIComponent(m[2]!);
  return out;
}

describe('OAuth 1.0a HMAC-SHA1 signatures (RFC 5849)', () => {
  it('§1.2: the photos example — base string and signature', () => {
    const params: [string, string][] = [
      ...formParameters('file=vacation.jpg&size=original'),
      ['oauth_consumer_key', 'dpf43f3p2l4k3l03'],
      ['oauth_token', 'nnch734d00sl2jdk'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131202'],
      ['oauth_nonce', 'chapoH'],
    ];
    const base = signatureBaseString('GET', new URL('http://photos.example.net'), '/photos', params);
    expect(base).toBe(
      'GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal',
    );
    expect(hmacSha1Signature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe('MdpQcU8iPSUjWoN/UDMsK2sui9I=');
  });

  it('§3.4.1.1: query and form-body parameters — repeated names, "+" as a space, encoded "=" and "%", a pair without "="', () => {
    const params: [string, string][] = [
      ...formParameters('b5=%3D%253D&a3=a&c%40=&a2=r%20b'),
      ...formParameters(Buffer.from('c2&a3=2+q')),
      ['oauth_consumer_key', '9djdj82h48djs9d2'],
      ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131201'],
      ['oauth_nonce', '7d8f3e4a'],
    ];
    expect(signatureBaseString('POST', new URL('http://example.com'), '/request', params)).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('§3.4.1.2: the base string URI — scheme and host lower-case, default port dropped, other ports kept, no query', () => {
    const uri = (origin: string, path: string) => decodeURIComponent(signatureBaseString('GET', new URL(origin), path, []).split('&')[1]!);
    expect(uri('HTTP://EXAMPLE.COM:80', '/r%20v/X')).toBe('http://example.com/r%20v/X');
    expect(uri('https://www.example.net:8080', '/')).toBe('https://www.example.net:8080/');
    expect(uri('https://api.example.com:443', '')).toBe('https://api.example.com/');
  });

  it('the Twitter-documented example ("Creating a signature"): header with oauth_version 1.0, query and form body signed', () => {
    const header = oauth1Authorization(
      {
        method: 'POST',
        origin: new URL('https://api.twitter.com'),
        target: '/1.1/statuses/update.json?include_entities=true',
        formBody: 'status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21',
      },
      {
        consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
        consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
        token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
        tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
      },
      { now: () => 1318622958_000, nonce: () => 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg' },
    );
    expect(header).toBe(
      'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"',
    );
  });

  it('§3.6: only unreserved characters stay as they are; UTF-8 octets and raw bytes are %XX upper-case', () => {
    expect(percentEncode('Ladies + Gentlemen, a signed OAuth request!')).toBe('Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21');
    expect(percentEncode("AZaz09-._~!*'()/?#[]@$&+,;=% ")).toBe('AZaz09-._~%21%2A%27%28%29%2F%3F%23%5B%5D%40%24%26%2B%2C%3B%3D%25%20');
    expect(percentEncode('✓ ü')).toBe('%E2%9C%93%20%C3%BC');
    expect(percentEncode(Buffer.from([0xff, 0x00]))).toBe('%FF%00');
    // An escape that is not UTF-8 is signed as the byte it stands for; a stray "%" is a literal.
    expect(formParameters('a=%ff&b=%zz&c=%7e')).toEqual([
      ['a', '%FF'],
      ['b', '%25zz'],
      ['c', '~'],
    ]);
  });

  it('a fresh nonce and the current time on every call by default', () => {
    const credentials = { consumerKey: 'ck', consumerSecret: 'cs', token: 't', tokenSecret: 'ts' };
    const request = { method: 'GET', origin: new URL('https://api.example.com'), target: '/x' };
    const nonces = new Set(Array.from({ length: 50 }, () => headerParams(oauth1Authorization(request, credentials)).oauth_nonce));
    expect(nonces.size).toBe(50);
    const timestamp = Number(headerParams(oauth1Authorization(request, credentials)).oauth_timestamp);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(5);
  });

  it('refuses oauth_* parameters already in the query or the form body (each travels once, in the header)', () => {
    const credentials = { consumerKey: 'ck', consumerSecret: 'cs', token: 't', tokenSecret: 'ts' };
    const origin = new URL('https://api.example.com');
    expect(() => oauth1Authorization({ method: 'GET', origin, target: '/x?oauth_token=mine' }, credentials)).toThrow(OAuth1ParameterError);
    expect(() => oauth1Authorization({ method: 'POST', origin, target: '/x', formBody: 'a=1&oauth%5Fnonce=1' }, credentials)).toThrow(OAuth1ParameterError);
    expect(() => oauth1Authorization({ method: 'GET', origin, target: '/x?OAUTH_token=not-a-protocol-parameter' }, credentials)).not.toThrow();
  });

  it('header values are percent-encoded, so no key or token can break the header', () => {
    const header = oauth1Authorization(
      { method: 'GET', origin: new URL('https://api.example.com'), target: '/' },
      { consumerKey: 'c"k\r\nx-injected: 1', consumerSecret: 'cs', token: 't,=', tokenSecret: 'ts' },
    );
    expect(header).not.toMatch(/[\r\n]/);
    expect(headerParams(header)).toMatchObject({ oauth_consumer_key: 'c"k\r\nx-injected: 1', oauth_token: 't,=' });
  });
});
