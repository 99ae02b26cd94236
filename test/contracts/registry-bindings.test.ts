/**
 * How the registry binds handlers: an audit-only binding (group-committed audit, no
 * transaction) is only allowed for commands that refuse Idempotency-Key, since there is no
 * transaction to store a replay in.
 */
import { describe, expect, it } from 'vitest';
import type { AuditGroupCommit } from '../../src/audit/audit-group-commit.js';
import type { AuditLog } from '../../src/audit/audit-log.js';
import { CreateIntegration } from '../../src/contracts/integrations/integration-contracts.js';
import { MintConnectionToken } from '../../src/contracts/oauth/oauth-contracts.js';
import { Registry, type RegistryDeps } from '../../src/contracts/registry.js';
import type { Store } from '../../src/store/database.js';
import type { IdempotencyStore } from '../../src/store/idempotency-store.js';

// Sealing touches no dependency; these stand in for the real ones only to type-check.
const deps = { store: {} as Store, audit: {} as AuditLog, auditCommit: {} as AuditGroupCommit, idempotency: {} as IdempotencyStore } satisfies RegistryDeps;
const handler = async () => ({}) as never;

describe('Registry.bind writes option', () => {
  it('accepts an audit-only binding for a command that refuses Idempotency-Key', () => {
    expect(MintConnectionToken.http.idempotencyKey).toBe(false);
    const registry = new Registry([MintConnectionToken], deps).bind(MintConnectionToken, handler, undefined, { writes: 'audit-only' });
    expect(() => registry.seal()).not.toThrow();
  });

  it('refuses to start with an audit-only binding on a command that takes Idempotency-Key', () => {
    const registry = new Registry([CreateIntegration], deps).bind(CreateIntegration, handler, undefined, { writes: 'audit-only' });
    expect(() => registry.seal()).toThrow(/integrations\.integration\.create: an audit-only binding needs a command that refuses Idempotency-Key/);
  });
});

describe('Registry.seal refuses an incomplete registry (start-up fails)', () => {
  it('a contract without a handler', () => {
    const registry = new Registry([CreateIntegration], deps);
    expect(() => registry.seal()).toThrow(/integrations\.integration\.create has no handler/);
  });

  it('a contract without a policy', () => {
    const unguarded = { ...CreateIntegration, policy: { ...CreateIntegration.policy, policies: [] } } as typeof CreateIntegration;
    const registry = new Registry([unguarded], deps).bind(unguarded, handler);
    expect(() => registry.seal()).toThrow(/integrations\.integration\.create declares no policy/);
  });

  it('a contract that takes If-Match without declaring its 412', () => {
    const sloppy = { ...CreateIntegration, http: { ...CreateIntegration.http, ifMatch: true as const } } as typeof CreateIntegration;
    const registry = new Registry([sloppy], deps).bind(sloppy, handler);
    expect(() => registry.seal()).toThrow(/takes If-Match but does not declare precondition_failed/);
  });

  it('two contracts on one route', () => {
    const twin = { ...MintConnectionToken, meta: { ...MintConnectionToken.meta, key: 'integrations.connection.mintAgain' }, http: { ...MintConnectionToken.http } } as typeof MintConnectionToken;
    const registry = new Registry([MintConnectionToken, twin], deps).bind(MintConnectionToken, handler).bind(twin, handler);
    expect(() => registry.seal()).toThrow(/route POST .* is taken/);
  });

  it('every real contract that takes If-Match declares its 412', async () => {
    const { ALL_CONTRACTS } = await import('../../src/contracts/index.js');
    for (const contract of ALL_CONTRACTS) {
      if (contract.http.ifMatch) expect(contract.io.errors, contract.meta.key).toContain('precondition_failed');
    }
  });
});
