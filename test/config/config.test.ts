import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('reads booleans in their usual spellings and refuses anything else instead of reading it as false', () => {
    for (const yes of ['true', '1', 'yes', 'on', 'TRUE', ' Yes ']) expect(loadConfig({ LATCHKEY_ALLOW_PRIVATE_NETWORKS: yes }).allowPrivateNetworks, yes).toBe(true);
    for (const no of ['false', '0', 'no', 'off', '']) expect(loadConfig({ LATCHKEY_METRICS_PUBLIC: no }).metricsPublic, no).toBe(false);
    expect(() => loadConfig({ LATCHKEY_ALLOW_PRIVATE_NETWORKS: 'yep' })).toThrow(/LATCHKEY_ALLOW_PRIVATE_NETWORKS must be true or false \(got "yep"\)/);
    // A variable that defaults to true keeps its default when unset, and reads the same spellings.
    expect(loadConfig({}).webhookDispatcher).toBe(true);
    expect(loadConfig({ LATCHKEY_WEBHOOK_DISPATCHER: 'off' }).webhookDispatcher).toBe(false);
    expect(() => loadConfig({ LATCHKEY_WEBHOOK_DISPATCHER: 'nope' })).toThrow(/LATCHKEY_WEBHOOK_DISPATCHER must be true or false/);
  });

  it('refuses a port outside 0–65535 and non-integers, naming the variable', () => {
    expect(loadConfig({ LATCHKEY_PORT: '65535' }).port).toBe(65535);
    for (const bad of ['70000', '-1', '80.5', 'http']) expect(() => loadConfig({ LATCHKEY_PORT: bad }), bad).toThrow(/LATCHKEY_PORT must be an integer from 0 to 65535/);
    expect(() => loadConfig({ LATCHKEY_BODY_LIMIT: 'lots' })).toThrow(/LATCHKEY_BODY_LIMIT/);
  });
});
