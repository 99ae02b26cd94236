import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { OutboundGuard } from '../net/outbound-guard.js';

/** Pools kept at most; the least recently used one is retired past this. */
const MAX_POOLS = 256;

/** Closes an agent's idle sockets now, and each busy one when its request ends (never cutting a request). */
function retire(agent: HttpAgent): void {
  agent.maxFreeSockets = 0;
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

export interface UpstreamPool {
  http: HttpAgent;
  https: HttpsAgent;
  /** The operator's guard widened by the integration's allow-list. */
  guard: OutboundGuard;
}

/**
 * Keep-alive connection pools for upstream requests, one per integration and allow-list.
 *
 * Pooling saves a TCP (and TLS) handshake per proxied request. It is safe with the outbound
 * guard because a socket is only ever checked once, when it connects (the guard's `lookup`
 * decides the address connected to), and a pool is never shared between integrations: a
 * socket one integration's allow-list permitted cannot serve another integration whose
 * allow-list would refuse it. Keying by the allow-list too means a changed list starts a
 * new pool rather than reusing sockets opened under the old one.
 *
 * @example
 * ```ts
 * const agents = new UpstreamAgents(services.guard);
 * const pool = agents.for(integration.uid, integration.network_allow_list);
 * http.request({ ...options, agent: pool.http, lookup: pool.guard.lookup });
 * ```
 */
export class UpstreamAgents {
  private readonly pools = new Map<string, UpstreamPool>();

  /** @param guard The operator-level guard (LATCHKEY_ALLOW_PRIVATE_NETWORKS); each pool adds its integration's allow-list. */
  constructor(private readonly guard: OutboundGuard) {}

  /** The pools of one integration under its current allow-list (the stored JSON text). */
  for(integrationUid: string, allowList: string): UpstreamPool {
    const key = `${integrationUid}\u0000${allowList}`;
    const found = this.pools.get(key);
    if (found) {
      // Map order is insertion order: move it to the back, so eviction takes the least recently used.
      this.pools.delete(key);
      this.pools.set(key, found);
      return found;
    }
    const options = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const, timeout: 60_000 };
    const pool: UpstreamPool = { http: new HttpAgent(options), https: new HttpsAgent(options), guard: this.guard.withAllowList(JSON.parse(allowList) as string[]) };
    this.pools.set(key, pool);
    if (this.pools.size > MAX_POOLS) {
      const [oldestKey, oldest] = this.pools.entries().next().value as [string, UpstreamPool];
      this.pools.delete(oldestKey);
      retire(oldest.http);
      retire(oldest.https);
    }
    return pool;
  }

  /** Closes every pooled socket (at shutdown). */
  destroy(): void {
    for (const pool of this.pools.values()) {
      pool.http.destroy();
      pool.https.destroy();
    }
    this.pools.clear();
  }
}
