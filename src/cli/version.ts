import { readFileSync } from 'node:fs';

/** The package version, read without loading the server (keeps `latchkey --help` fast). Same path from src/cli and dist/cli. */
export const CLI_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
