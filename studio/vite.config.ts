import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { type Plugin, defineConfig } from 'vite';

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * The Studio shares the typed client (and so the contracts) with the server. A Node-only
 * module reached at run time from there would be stubbed by Vite and break in the browser;
 * fail the build instead, naming the importer. Type-only imports are erased before this.
 */
const browserSafe = (): Plugin => ({
  name: 'latchkey-browser-safe',
  enforce: 'pre',
  resolveId(source, importer) {
    if (NODE_BUILTINS.has(source)) this.error(`${source} is imported by ${importer ?? 'an entry'}; the Studio bundle must not import Node built-ins`);
    return null;
  },
});

/**
 * The Studio's build: static files under dist/studio, served by the Latchkey server at
 * /studio (src/surfaces/http/studio-route.ts). Everything is bundled (no runtime CDN), no
 * asset is inlined as a data: URL and no inline script is emitted, so the page runs under a
 * CSP that allows only 'self'. `npm run studio:dev` serves it with hot reload and proxies
 * the API to a server on 127.0.0.1:8787.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/studio/',
  plugins: [browserSafe(), react()],
  // The typed client lives in ../src; its modules only check `globalThis.process` at run time.
  build: {
    outDir: fileURLToPath(new URL('../dist/studio', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false,
    rollupOptions: {
      // zod's sources carry comments Rollup cannot place; harmless, and not ours to fix.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
  server: {
    port: 5173,
    strictPort: false,
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    proxy: { '/v1': 'http://127.0.0.1:8787' },
  },
});
