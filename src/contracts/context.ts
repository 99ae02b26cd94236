import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { PolicyKey, Role } from './policies.js';

/** Who is calling, resolved from an API key by the surface before the pipeline runs. */
export interface Principal {
  tenantId: string;
  keyId: string;
  role: Role;
  grants: ReadonlySet<PolicyKey>;
  userId: string | null;
  workspaceId: string | null;
  isPlatformTenant: boolean;
}

/** What a surface passes with every call. */
export interface CallContext {
  principal: Principal | null;
  requestId: string;
  ip: string | null;
  surface: 'http' | 'cli' | 'mcp' | 'internal';
  /** Parsed `If-Match`: the versions it names (any may match), `*`, or absent. */
  ifMatch?: readonly number[] | '*' | undefined;
  idempotencyKey?: string | undefined;
}

/** What a handler writes down for the audit event of its call. */
export interface AuditNote {
  resource?: { type: string; id: string };
  /** `reason`: why the caller did it, where an operation asks for one (a reveal's X-Reveal-Reason). */
  changes?: { fields: string[]; secretsChanged: string[]; reason?: string };
}

/** What a handler receives: the call, the caller, a query executor (the transaction for commands), and the clock. */
export interface HandlerContext extends CallContext {
  principal: Principal;
  db: Kysely<Database>;
  now: Date;
  audit: AuditNote;
  /** Runs after the command's transaction commits (never if it rolls back), e.g. cache eviction. */
  afterCommit(effect: () => void): void;
  /** What the operation's prepare step returned (see `Registry.bind`), if it has one. */
  prepared: unknown;
}

/**
 * What a prepare step receives: the caller and the database outside any transaction, for
 * slow I/O (a live connection test) that must not hold a write transaction open.
 */
export interface PrepareContext extends CallContext {
  principal: Principal;
  db: Kysely<Database>;
  now: Date;
}
