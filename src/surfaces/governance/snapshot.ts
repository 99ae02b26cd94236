import type { AnyContract, HttpMethod, Stability } from '../../contracts/define.js';
import { type JsonSchema, jsonSchemaOf } from '../docs/json-schema.js';

/** What governance remembers of one contract: its promise to callers. */
export interface ContractSnapshot {
  version: string;
  stability: Stability;
  kind: 'command' | 'query';
  http: { method: HttpMethod; path: string; aliases: string[]; query: string[]; successStatus: number };
  /** Policy keys with versions, `key@version`, sorted. */
  policies: string[];
  /** JSON Schema of what a caller may send (`io: 'input'`). */
  input: JsonSchema;
  /** JSON Schema of what the server returns (`io: 'output'`). */
  output: JsonSchema;
}

/** The committed snapshot (`contracts/snapshot.json`): every contract by key. */
export interface RegistrySnapshot {
  contracts: Record<string, ContractSnapshot>;
}

export function contractSnapshotOf(contract: AnyContract): ContractSnapshot {
  return {
    version: contract.meta.version,
    stability: contract.meta.stability,
    kind: contract.kind,
    http: {
      method: contract.http.method,
      path: contract.http.path,
      aliases: [...(contract.http.aliases ?? [])].sort(),
      query: [...(contract.http.query ?? [])].sort(),
      successStatus: contract.http.successStatus ?? 200,
    },
    policies: contract.policy.policies.map((p) => `${p.key}@${p.version}`).sort(),
    input: jsonSchemaOf(contract.io.input, 'input'),
    output: jsonSchemaOf(contract.io.output, 'output'),
  };
}

/** The snapshot of a registry, contracts sorted by key. */
export function snapshotOf(contracts: readonly AnyContract[]): RegistrySnapshot {
  const sorted = [...contracts].sort((a, b) => a.meta.key.localeCompare(b.meta.key));
  return { contracts: Object.fromEntries(sorted.map((c) => [c.meta.key, contractSnapshotOf(c)])) };
}

/** The snapshot as committed: two-space JSON with a trailing newline (deterministic). */
export const serializeSnapshot = (snapshot: RegistrySnapshot): string => `${JSON.stringify(snapshot, null, 2)}\n`;

/** Reads a committed snapshot; throws with a clear message when it is not one. */
export function parseSnapshot(text: string): RegistrySnapshot {
  const parsed = JSON.parse(text) as Partial<RegistrySnapshot>;
  if (!parsed || typeof parsed !== 'object' || typeof parsed.contracts !== 'object' || parsed.contracts === null) {
    throw new Error('not a contract snapshot: expected { "contracts": { "<key>": … } }');
  }
  return parsed as RegistrySnapshot;
}
