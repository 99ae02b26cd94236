import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The built Studio the server serves (src/surfaces/http/studio-route.ts looks here from source). */
export const STUDIO_DIST = join(ROOT, 'dist', 'studio');
/** What the bundle is made of: the Studio itself and the server sources its client imports. */
const INPUTS = [join(ROOT, 'studio'), join(ROOT, 'src'), join(ROOT, 'package.json')];

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/**
 * Builds the Studio when dist/studio is missing or older than any of its sources, so a
 * clean clone running `npm test` gets a built Studio before the browser test (the build
 * takes a few seconds). Returns whether it built.
 */
export function ensureStudioBuilt(): boolean {
  const index = join(STUDIO_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(...INPUTS.map(newestMtime))) return false;
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(ROOT, 'studio', 'vite.config.ts'), '--logLevel', 'warn'], {
    cwd: ROOT,
    // vitest sets NODE_ENV=test, and Vite would then bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`Studio build failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  return true;
}
