import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The Studio's Content-Security-Policy: everything from this origin only. The build
 * (studio/vite.config.ts) emits no inline script or style and inlines no asset as a data:
 * URL, so nothing else needs allowing.
 */
export const STUDIO_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Where the built Studio is: `dist/studio` beside the compiled server (`dist/surfaces/http`
 * → `dist/studio`), or, when the server runs from source with tsx, the repository's
 * `dist/studio`.
 */
export function defaultStudioRoot(): string {
  const candidates = [fileURLToPath(new URL('../../studio', import.meta.url)), fileURLToPath(new URL('../../../dist/studio', import.meta.url))];
  return candidates.find((dir) => existsSync(resolve(dir, 'index.html'))) ?? candidates[candidates.length - 1]!;
}

export interface StudioRouteOptions {
  /** Folder holding the built Studio (index.html, assets/). Defaults to {@link defaultStudioRoot}. */
  root?: string;
}

/**
 * Serves the Studio at `/studio`: its static files with their content types, hashed
 * assets cached for a year, `index.html` for every other path below `/studio` (the
 * Studio routes in the browser), and a CSP that allows only 'self'. A missing asset is a
 * 404, not the page, so a broken build never loads HTML as script.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * registerStudioRoute(app, { root: '/srv/latchkey/dist/studio' });
 * ```
 */
export function registerStudioRoute(app: FastifyInstance, options: StudioRouteOptions = {}): void {
  const root = resolve(options.root ?? defaultStudioRoot());

  const send = async (reply: FastifyReply, file: string, cache: string) => {
    const body = await readFile(file);
    return reply
      .header('content-security-policy', STUDIO_CSP)
      .header('cache-control', cache)
      .type(CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .send(body);
  };

  const page = async (reply: FastifyReply) => {
    const index = resolve(root, 'index.html');
    if (!existsSync(index)) {
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send('Latchkey Studio is not built. Run `npm run build` (or `npm start`, which builds it) and reload.\n');
    }
    // Revalidated on every load, so a new build's asset names are picked up at once.
    return send(reply, index, 'no-cache');
  };

  app.get('/studio', async (_request, reply) => page(reply));
  app.get('/studio/*', async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    if (rest === '' || rest === 'index.html') return page(reply);
    const segments = rest.split('/');
    // No dotfiles, no NUL, nothing that climbs out of the root.
    if (rest.includes('\0') || segments.some((s) => s.startsWith('.'))) return reply.callNotFound();
    const file = resolve(root, rest);
    if (!file.startsWith(root + sep)) return reply.callNotFound();
    const found = await stat(file).catch(() => null);
    if (found?.isFile()) return send(reply, file, rest.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    // A missing asset (under assets/, or a top-level file such as /studio/robots.txt) is a
    // 404; any other path is a Studio page, even one ending in `.com` (connection ids).
    const isAssetPath = rest.startsWith('assets/') || (segments.length === 1 && extname(rest) !== '');
    return isAssetPath ? reply.callNotFound() : page(reply);
  });
}
