import { existsSync } from 'node:fs';
import { AuditLog } from '../audit/audit-log.js';
import type { LatchkeyConfig } from '../config.js';
import type { Keyring, KeyringOptions } from '../crypto/keyring.js';
import { type Store, openStore } from '../store/database.js';
import { migrateToLatest } from '../store/migrations.js';
import { openKeyring } from './open-keyring.js';

/** The database and key hierarchy, opened by an operator's command (no HTTP server). */
export interface OfflineSession {
  config: LatchkeyConfig;
  store: Store;
  keyring: Keyring;
  audit: AuditLog;
  close(): Promise<void>;
}

/**
 * Opens what `latchkey keys …` and `latchkey audit …` work on: the configured database
 * (SQLite data directory or PostgreSQL, possibly shared with running servers) and the
 * root key, checked exactly as the server checks it at start-up. Refuses a SQLite data
 * directory that holds no database instead of creating one.
 */
export async function openOfflineSession(config: LatchkeyConfig, warn: (message: string) => void, options: KeyringOptions = {}): Promise<OfflineSession> {
  const sqlite = !/^postgres(ql)?:\/\//.test(config.databaseUrl);
  if (sqlite && !existsSync(config.databaseUrl)) {
    throw new Error(`no Latchkey database at ${config.databaseUrl}: check --data-dir / LATCHKEY_DATA_DIR (or run latchkey init)`);
  }
  const store = openStore({ url: config.databaseUrl, poolSize: 4, onPoolError: (error) => warn(`database connection lost (${error.message}); reconnecting`) });
  try {
    await migrateToLatest(store.db, store.engine);
    const keyring = await openKeyring(store, config, warn, options);
    const audit = new AuditLog(store.engine, keyring.derivedKey('audit-chain'));
    return { config, store, keyring, audit, close: () => store.close() };
  } catch (error) {
    await store.close();
    throw error;
  }
}
