// Copies non-TypeScript assets (the provider catalog JSON) next to the compiled code,
// because tsc only emits what it compiles.
import { cpSync } from 'node:fs';
cpSync('src/providers/catalog', 'dist/providers/catalog', { recursive: true });
