import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import { MAX_ENCRYPTIONS_PER_KEY } from '../crypto/keyring.js';
import type { Database } from '../store/schema.js';
import { CIPHERTEXT_SOURCES } from './ciphertext-sources.js';
import { runningReencryption } from './reencryption.js';

export interface DataKeyVersionStatus {
  version: number;
  state: 'current' | 'superseded' | 'retired';
  rootKeyId: string | null;
  createdAt: string;
  supersededAt: string | null;
  retiredAt: string | null;
  /** Encryptions made with this version (survives restarts). */
  encryptions: number;
  /** Share of the AES-GCM limit (2^32) used. */
  usage: number;
  /** Stored ciphertexts that name this version. */
  records: number;
}

export interface TenantKeyStatus {
  tenantId: string;
  currentVersion: number;
  versions: DataKeyVersionStatus[];
}

export interface RootKeyVersionStatus {
  id: string;
  state: 'current' | 'previous' | 'retired';
  provider: string;
  createdAt: string;
  retiredAt: string | null;
  /** Data keys and system secrets wrapped under it. */
  wrappedKeys: number;
}

export interface KeyStatus {
  provider: { kind: string; description: string };
  rootKeys: RootKeyVersionStatus[];
  tenants: TenantKeyStatus[];
  reencryption: { jobId: string; processed: number; total: number; startedAt: string; updatedAt: string } | null;
}

/**
 * What `latchkey keys status` and `keys.keyring.get` show: the root key versions and what
 * each wraps, and per tenant its data-key versions with their encryption counts and how
 * many stored records each still encrypts. Pass `tenantId` for one tenant only.
 */
export async function keyStatus(db: Kysely<Database>, keyring: Keyring, opts: { tenantId?: string } = {}): Promise<KeyStatus> {
  let dataQuery = db.selectFrom('data_keys').selectAll().orderBy('tenant_id').orderBy('version');
  if (opts.tenantId) dataQuery = dataQuery.where('tenant_id', '=', opts.tenantId);
  const [dataKeys, rootRows, systemRows, job] = await Promise.all([
    dataQuery.execute(),
    db.selectFrom('root_keys').selectAll().orderBy('seq').execute(),
    db.selectFrom('system_keys').select('root_key_id').execute(),
    runningReencryption(db),
  ]);
  const records = new Map<string, number>();
  for (const source of CIPHERTEXT_SOURCES) {
    for (const entry of await source.census(db)) {
      const id = `${entry.tenantId}\u0000${entry.version}`;
      records.set(id, (records.get(id) ?? 0) + entry.count);
    }
  }
  const tenants = new Map<string, TenantKeyStatus>();
  for (const row of dataKeys) {
    const tenant = tenants.get(row.tenant_id) ?? { tenantId: row.tenant_id, currentVersion: 0, versions: [] };
    const version = Number(row.version);
    const state = row.retired_at ? 'retired' : row.superseded_at ? 'superseded' : 'current';
    const encryptions = Number(row.encryptions ?? 0);
    tenant.versions.push({
      version,
      state,
      rootKeyId: row.retired_at ? null : row.root_key_id,
      createdAt: row.created_at,
      supersededAt: row.superseded_at ?? null,
      retiredAt: row.retired_at ?? null,
      encryptions,
      usage: Math.round((encryptions / MAX_ENCRYPTIONS_PER_KEY) * 1e6) / 1e6,
      records: records.get(`${row.tenant_id}\u0000${version}`) ?? 0,
    });
    if (state === 'current') tenant.currentVersion = Math.max(tenant.currentVersion, version);
    tenants.set(row.tenant_id, tenant);
  }
  const current = rootRows.filter((r) => !r.retired_at).at(-1)?.id;
  const wraps = new Map<string, number>();
  for (const row of dataKeys) if (!row.retired_at) wraps.set(row.root_key_id, (wraps.get(row.root_key_id) ?? 0) + 1);
  for (const row of systemRows) wraps.set(row.root_key_id, (wraps.get(row.root_key_id) ?? 0) + 1);
  return {
    provider: { kind: keyring.provider.kind, description: keyring.provider.describe() },
    rootKeys: rootRows.map((r) => ({
      id: r.id,
      state: r.id === current ? 'current' : r.retired_at ? 'retired' : 'previous',
      provider: r.provider,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
      wrappedKeys: wraps.get(r.id) ?? 0,
    })),
    tenants: [...tenants.values()],
    reencryption: job ? { jobId: job.id, processed: Number(job.processed), total: Number(job.total), startedAt: job.started_at, updatedAt: job.updated_at } : null,
  };
}
