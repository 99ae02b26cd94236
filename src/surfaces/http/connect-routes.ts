import type { FastifyInstance, FastifyReply } from 'fastify';
import type { BrowserBindingCookie, ConnectOutcome, ConnectSessions } from '../../oauth/connect-sessions.js';

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small self-contained page for outcomes with nowhere to redirect to. */
function renderPage(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · Latchkey</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1d2330}main{background:#fff;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 1px 3px #0002;max-width:28rem}h1{font-size:1.25rem;margin:0 0 .5rem}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
}

/**
 * The browser-binding cookie: HttpOnly (no script needs it), SameSite=Lax (sent on the
 * provider's top-level redirect back, not on cross-site subrequests), scoped to the
 * callback path, and Secure whenever the public URL is https.
 */
function serializeCookie(cookie: BrowserBindingCookie, secure: boolean): string {
  return `${cookie.name}=${cookie.value}; Max-Age=${cookie.maxAgeSeconds}; Path=${cookie.path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** The request's cookies by name (first wins, as browsers send the most specific first). */
function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

function send(reply: FastifyReply, outcome: ConnectOutcome, secure: boolean) {
  // The URL carries a one-time token or code: keep it out of Referer headers and caches.
  reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
  if (outcome.cookie) reply.header('set-cookie', serializeCookie(outcome.cookie, secure));
  if (outcome.kind === 'redirect') return reply.redirect(outcome.location, 302);
  return reply.code(outcome.status).header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(renderPage(outcome.title, outcome.message));
}

/**
 * The public end of the OAuth connect flow: `GET /connect/{token}` (the one-time link an
 * application hands its user) and `GET /oauth/callback` (where the provider sends them
 * back). Neither takes an API key: the session token, the state and the cookie the link
 * sets in the browser that opened it are the credentials.
 */
export function registerConnectRoutes(app: FastifyInstance, connect: ConnectSessions): void {
  const secure = new URL(connect.redirectUri).protocol === 'https:';
  app.get<{ Params: { token: string } }>('/connect/:token', async (request, reply) => send(reply, await connect.open(request.params.token), secure));
  app.get('/oauth/callback', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (typeof v === 'string') params.set(k, v);
    return send(reply, await connect.callback(params, parseCookies(request.headers.cookie)), secure);
  });
}
