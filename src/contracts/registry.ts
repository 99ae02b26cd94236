import type { z } from 'zod';
import type { AuditGroupCommit } from '../audit/audit-group-commit.js';
import type { AuditLog } from '../audit/audit-log.js';
import { LatchkeyError, type FieldError, statusOf } from '../errors.js';
import type { Store } from '../store/database.js';
import type { IdempotencyStore } from '../store/idempotency-store.js';
import type { AuditNote, CallContext, HandlerContext, PrepareContext, Principal } from './context.js';
import type { AnyContract, InputOf, OutputOf } from './define.js';
import { MAX_INPUT_DEPTH, nestsDeeperThan } from './input-depth.js';
import { isRetryableTransactionError } from '../domain/db-errors.js';

/** Attempts of a command's transaction when PostgreSQL reports a deadlock or serialization failure. */
const MAX_ATTEMPTS = 3;

export type Handler<C extends AnyContract> = (input: InputOf<C>, ctx: HandlerContext) => Promise<OutputOf<C>>;
/** Runs before a command's transaction (outside it); its result reaches the handler as `ctx.prepared`. */
export type Prepare<C extends AnyContract> = (input: InputOf<C>, ctx: PrepareContext) => Promise<unknown>;

/** How a command's handler writes. */
export interface BindOptions {
  /**
   * `'audit-only'`: the handler changes nothing in the database (its work is in `prepare`
   * or elsewhere, e.g. minting a cached token), so it runs outside a transaction and its
   * audit event is group-committed with those of concurrent calls. The caller still gets
   * its result only once its event is committed (fail-closed). Such a contract must refuse
   * `Idempotency-Key` (`http.idempotencyKey: false`): there is no transaction to store a
   * replay in.
   */
  writes?: 'transaction' | 'audit-only';
}

/** One command call, as the pipeline hands it to the way the command writes. */
interface CommandRun {
  contract: AnyContract;
  handler: Handler<AnyContract>;
  prepare: Prepare<AnyContract> | undefined;
  input: unknown;
  call: CallContext;
  principal: Principal;
  now: Date;
  audit: AuditNote;
}

interface Bound {
  contract: AnyContract;
  handler: Handler<AnyContract> | undefined;
  prepare: Prepare<AnyContract> | undefined;
  writes: NonNullable<BindOptions['writes']>;
}

export interface ExecutionResult {
  output: unknown;
  /** True when an `Idempotency-Key` replayed an earlier response. */
  replayed: boolean;
}

export interface RegistryDeps {
  store: Store;
  audit: AuditLog;
  /** Group-commits the audit events of `'audit-only'` commands. */
  auditCommit: AuditGroupCommit;
  idempotency: IdempotencyStore;
  clock?: () => Date;
  /** Called when a handler or output check fails unexpectedly (never with secret values). */
  onInternalError?: (key: string, error: unknown) => void;
}

/** Turns zod issues into the problem `errors` list (paths and messages, never values). */
export function fieldErrorsOf(error: z.ZodError): FieldError[] {
  const pathOf = (path: PropertyKey[]) => path.map(String).join('.') || '(root)';
  return error.issues.flatMap((issue) =>
    // zod reports unknown keys on the parent object; name each key so clients can point at it.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: 'is not a field of this operation' }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}

/**
 * Binds each contract to its handler exactly once and runs the one pipeline every
 * surface shares: authorize (deny by default) → validate input → handler (commands in a
 * transaction, with their audit event and idempotency record in the same transaction)
 * → validate output. Authorizing first means a caller without the policy learns nothing
 * about the input schema and every such call is audited as denied.
 */
export class Registry {
  private readonly bound = new Map<string, Bound>();
  private sealed = false;

  constructor(contracts: readonly AnyContract[], private readonly deps: RegistryDeps) {
    for (const contract of contracts) {
      if (this.bound.has(contract.meta.key)) throw new Error(`contract ${contract.meta.key} is declared twice`);
      this.bound.set(contract.meta.key, { contract, handler: undefined, prepare: undefined, writes: 'transaction' });
    }
  }

  /**
   * Binds the handler of a contract. A command may also have a `prepare` step that runs
   * first, outside the transaction, for slow I/O whose result the handler then applies —
   * so a 10-second connection test never holds the database's write lock. See
   * {@link BindOptions} for commands whose only write is their audit event.
   */
  bind<C extends AnyContract>(contract: C, handler: Handler<C>, prepare?: Prepare<C>, options: BindOptions = {}): this {
    const entry = this.bound.get(contract.meta.key);
    if (!entry) throw new Error(`contract ${contract.meta.key} is not registered`);
    if (entry.handler) throw new Error(`contract ${contract.meta.key} already has a handler`);
    entry.handler = handler as unknown as Handler<AnyContract>;
    entry.prepare = prepare as unknown as Prepare<AnyContract> | undefined;
    entry.writes = options.writes ?? 'transaction';
    return this;
  }

  /** Refuses to start when any contract lacks a policy or a handler, or two share a route. */
  seal(): this {
    const problems: string[] = [];
    const routes = new Set<string>();
    for (const { contract, handler, writes } of this.bound.values()) {
      const key = contract.meta.key;
      if (!handler) problems.push(`${key} has no handler`);
      if (writes === 'audit-only' && (contract.kind !== 'command' || contract.http.idempotencyKey !== false)) {
        problems.push(`${key}: an audit-only binding needs a command that refuses Idempotency-Key`);
      }
      if (!contract.policy || contract.policy.policies.length === 0) problems.push(`${key} declares no policy`);
      if (contract.http.ifMatch && !contract.io.errors.includes('precondition_failed')) problems.push(`${key} takes If-Match but does not declare precondition_failed`);
      for (const path of [contract.http.path, ...(contract.http.aliases ?? [])]) {
        const route = `${contract.http.method} ${path.replace(/\{[^}]+\}/g, '{}')}`;
        if (routes.has(route)) problems.push(`${key}: route ${route} is taken`);
        routes.add(route);
      }
    }
    if (problems.length > 0) throw new Error(`contract registry is incomplete:\n  ${problems.join('\n  ')}`);
    this.sealed = true;
    return this;
  }

  contracts(): AnyContract[] {
    return [...this.bound.values()].map((b) => b.contract);
  }

  get(key: string): AnyContract | undefined {
    return this.bound.get(key)?.contract;
  }

  async execute(key: string, rawInput: unknown, call: CallContext): Promise<ExecutionResult> {
    if (!this.sealed) throw new Error('registry used before seal()');
    const entry = this.bound.get(key);
    if (!entry?.handler) throw new LatchkeyError('not_found', `unknown operation ${key}`);
    const { contract, handler, prepare, writes } = entry;
    const principal = call.principal;
    if (!principal) throw new LatchkeyError('unauthenticated', 'an API key is required');

    const now = (this.deps.clock ?? (() => new Date()))();

    const missing = contract.policy.policies.filter((p) => !principal.grants.has(p.key));
    if (missing.length > 0) {
      await this.auditOutcome(contract, principal, call, now, {}, 'denied', 403);
      throw new LatchkeyError('forbidden', `this key lacks the policy ${missing.map((p) => p.key).join(', ')}`);
    }

    if (call.idempotencyKey !== undefined && contract.http.idempotencyKey === false) {
      // A replay would skip the handler's checks and the audit event of this very call.
      throw new LatchkeyError('bad_request', `${key} does not take an Idempotency-Key: every call is checked and audited on its own`);
    }
    if (call.ifMatch !== undefined && contract.kind === 'command' && contract.http.ifMatch !== true) {
      throw new LatchkeyError('bad_request', `${key} does not take If-Match: it has no version to compare`);
    }
    // Before zod, whose checks recurse: every surface's input (HTTP bodies, MCP arguments, CLI JSON).
    if (nestsDeeperThan(rawInput, MAX_INPUT_DEPTH)) throw new LatchkeyError('bad_request', `the input nests deeper than ${MAX_INPUT_DEPTH} levels`);
    const parsed = contract.io.input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      throw new LatchkeyError('validation_failed', 'the request does not match the operation\'s input schema', { errors: fieldErrorsOf(parsed.error) });
    }
    // Named before the operation runs, so a call that fails is still recorded against what it asked for.
    const audit: AuditNote = contract.audit ? { resource: contract.audit.resource(parsed.data) } : {};
    try {
      if (contract.kind === 'query') {
        const prepared = prepare ? await prepare(parsed.data, { ...call, principal, db: this.deps.store.db, now }) : undefined;
        const output = await handler(parsed.data, { ...call, principal, db: this.deps.store.db, now, audit, afterCommit: (effect) => effect(), prepared });
        return { output: this.checkOutput(contract, output), replayed: false };
      }
      const run: CommandRun = { contract, handler, prepare, input: parsed.data, call, principal, now, audit };
      return await (writes === 'audit-only' ? this.runAuditOnly(run) : this.runCommand(run));
    } catch (error) {
      if (contract.kind === 'command') {
        const status = error instanceof LatchkeyError ? statusOf(error.code) : 500;
        // A handler's own refusal (e.g. a workspace-restricted key reaching outside its workspace) is a denial too.
        const outcome = error instanceof LatchkeyError && error.code === 'forbidden' ? 'denied' : 'error';
        await this.auditOutcome(contract, principal, call, now, audit, outcome, status).catch(() => undefined);
      }
      if (error instanceof LatchkeyError) throw error;
      this.deps.onInternalError?.(key, error);
      throw new LatchkeyError('internal', 'the operation failed unexpectedly');
    }
  }

  private async runCommand(run: CommandRun): Promise<ExecutionResult> {
    const { contract, handler, prepare, input, call, principal, now, audit } = run;
    const { store, idempotency } = this.deps;
    const idem = call.idempotencyKey ? { key: call.idempotencyKey, fingerprint: idempotency.fingerprint(contract.meta.key, input, principal.keyId) } : null;
    if (idem) {
      const replay = await idempotency.begin(store.db, principal.tenantId, idem.key, contract.meta.key, idem.fingerprint, now);
      if (replay) return { output: replay, replayed: true };
    }
    try {
      const prepared = prepare ? await prepare(input, { ...call, principal, db: store.db, now }) : undefined;
      for (let attempt = 1; ; attempt++) {
        const effects: Array<() => void> = [];
        try {
          const output = await store.db.transaction().execute(async (trx) => {
            const result = this.checkOutput(contract, await handler(input, { ...call, principal, db: trx, now, audit, afterCommit: (effect) => effects.push(effect), prepared }));
            await this.deps.audit.append(trx, this.auditInput(contract, principal, call, now, audit, 'success', contract.http.successStatus ?? 200));
            if (idem) await idempotency.complete(trx, principal.tenantId, idem.key, result);
            return result;
          });
          for (const effect of effects) effect();
          return { output, replayed: false };
        } catch (error) {
          // A PostgreSQL deadlock or serialization failure rolled everything back: run it again.
          if (attempt >= MAX_ATTEMPTS || !isRetryableTransactionError(error)) throw error;
        }
      }
    } catch (error) {
      if (idem) await idempotency.abandon(store.db, principal.tenantId, idem.key).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A command whose only write is its audit event: prepare and handler run on the plain
   * database handle, then the event joins the next group commit; the result is returned
   * only after that commit (and effects run only then), so nothing leaves unaudited.
   */
  private async runAuditOnly(run: CommandRun): Promise<ExecutionResult> {
    const { contract, handler, prepare, input, call, principal, now, audit } = run;
    const { store } = this.deps;
    const effects: Array<() => void> = [];
    const prepared = prepare ? await prepare(input, { ...call, principal, db: store.db, now }) : undefined;
    const output = this.checkOutput(contract, await handler(input, { ...call, principal, db: store.db, now, audit, afterCommit: (effect) => effects.push(effect), prepared }));
    await this.deps.auditCommit.write(this.auditInput(contract, principal, call, now, audit, 'success', contract.http.successStatus ?? 200));
    for (const effect of effects) effect();
    return { output, replayed: false };
  }

  private checkOutput(contract: AnyContract, output: unknown): unknown {
    const checked = contract.io.output.safeParse(output);
    if (!checked.success) {
      this.deps.onInternalError?.(contract.meta.key, new Error(`output check failed at ${fieldErrorsOf(checked.error).map((e) => e.path).join(', ')}`));
      throw new LatchkeyError('internal', 'the operation produced an invalid result');
    }
    return checked.data;
  }

  private auditInput(contract: AnyContract, principal: Principal, call: CallContext, now: Date, note: AuditNote, outcome: 'success' | 'denied' | 'error', status: number) {
    return {
      tenantId: principal.tenantId,
      at: now,
      actor: { type: 'api_key' as const, keyId: principal.keyId, userId: principal.userId },
      action: contract.meta.key,
      resource: note.resource ?? null,
      outcome,
      status,
      requestId: call.requestId,
      ip: call.ip,
      changes: note.changes ?? null,
    };
  }

  private async auditOutcome(contract: AnyContract, principal: Principal, call: CallContext, now: Date, note: AuditNote, outcome: 'denied' | 'error', status: number) {
    await this.deps.audit.appendAlone(this.deps.store.db, this.auditInput(contract, principal, call, now, note, outcome, status));
  }
}
