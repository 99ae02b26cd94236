import type { AnyContract, HttpMethod, Stability } from '../../contracts/define.js';
import type { StreamingContract } from '../../contracts/integrations/proxy-contract.js';
import { type JsonSchema, jsonSchemaOf } from '../docs/json-schema.js';

/** What governance remembers of one contract: its promise to callers. */
export interface ContractSnapshot {
  version: string;
  stability: Stability;
  kind: 'command' | 'query';
  http: {
    method: HttpMethod;
    path: string;
    aliases: string[];
    query: string[];
    successStatus: number;
    /**
     * Input fields read from request headers, field → header name (lower case, keys
     * sorted). Absent in snapshots written before it was recorded: then not compared.
     */
    headers?: Record<string, string>;
    /**
     * Whether a retry with the same `Idempotency-Key` replays the first response: true for
     * a POST that does not refuse the header. Absent in older snapshots: not compared.
     */
    idempotencyKey?: boolean;
    /** Whether the command honours `If-Match` (412 on a stale version). Absent in older snapshots: not compared. */
    ifMatch?: boolean;
  };
  /** Policy keys with versions, `key@version`, sorted. */
  policies: string[];
  /** JSON Schema of what a caller may send (`io: 'input'`). */
  input: JsonSchema;
  /** JSON Schema of what the server returns (`io: 'output'`). */
  output: JsonSchema;
}

/** What governance remembers of a streaming operation (the proxy): bytes in and out, so no output schema. */
export interface StreamingSnapshot {
  version: string;
  stability: Stability;
  kind: 'command' | 'query';
  http: { methods: string[]; path: string };
  policies: string[];
  /** JSON Schema of what the request URL carries. */
  input: JsonSchema;
}

/** The committed snapshot (`contracts/snapshot.json`): every contract by key, and the streaming ones. */
export interface RegistrySnapshot {
  contracts: Record<string, ContractSnapshot>;
  /** Absent in snapshots written before streaming operations were governed. */
  streaming?: Record<string, StreamingSnapshot>;
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
      headers: Object.fromEntries(
        Object.entries(contract.http.headers ?? {})
          .map(([field, header]): [string, string] => [field, header.toLowerCase()])
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
      // Only POST routes read the header (src/surfaces/http/contract-routes.ts).
      idempotencyKey: contract.http.method === 'POST' && contract.http.idempotencyKey !== false,
      ifMatch: contract.http.ifMatch === true,
    },
    policies: contract.policy.policies.map((p) => `${p.key}@${p.version}`).sort(),
    input: jsonSchemaOf(contract.io.input, 'input'),
    output: jsonSchemaOf(contract.io.output, 'output'),
  };
}

export function streamingSnapshotOf(contract: StreamingContract): StreamingSnapshot {
  return {
    version: contract.meta.version,
    stability: contract.meta.stability,
    kind: contract.kind,
    http: { methods: [...contract.http.methods], path: contract.http.path },
    policies: contract.policy.policies.map((p) => `${p.key}@${p.version}`).sort(),
    input: jsonSchemaOf(contract.io.input, 'input'),
  };
}

const byKey = (a: { meta: { key: string } }, b: { meta: { key: string } }) => a.meta.key.localeCompare(b.meta.key);

/** The snapshot of a registry and its streaming operations, each sorted by key. */
export function snapshotOf(contracts: readonly AnyContract[], streaming: readonly StreamingContract[] = []): RegistrySnapshot {
  const snapshot: RegistrySnapshot = { contracts: Object.fromEntries([...contracts].sort(byKey).map((c) => [c.meta.key, contractSnapshotOf(c)])) };
  if (streaming.length > 0) snapshot.streaming = Object.fromEntries([...streaming].sort(byKey).map((c) => [c.meta.key, streamingSnapshotOf(c)]));
  return snapshot;
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
