import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { lazyChildLoggerFactory } from '../../src/surfaces/http/lazy-request-logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('lazyChildLoggerFactory', () => {
  it('builds no child until the request logs, then one child with the bindings, reused', () => {
    const { lines, logger } = capture();
    const child = vi.spyOn(logger, 'child');
    const log = lazyChildLoggerFactory(logger, { reqId: 'r-1' }, {});
    expect(log.level).toBe('info');
    log.debug('below the level');
    expect(child).toHaveBeenCalledTimes(1); // debug is a call too: the child decides what to drop
    log.info({ path: '/x' }, 'first');
    log.warn('second');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l.reqId, l.msg, l.level])).toEqual([
      ['r-1', 'first', 30],
      ['r-1', 'second', 40],
    ]);
    expect(lines[0]!.path).toBe('/x');
  });

  it('a request that never logs never builds a child', () => {
    const { logger } = capture();
    const child = vi.spyOn(logger, 'child');
    for (let i = 0; i < 10; i++) lazyChildLoggerFactory(logger, { reqId: `r-${i}` }, {});
    expect(child).not.toHaveBeenCalled();
  });

  it('keeps redaction and per-route levels', () => {
    const { lines, logger } = capture();
    const quiet = lazyChildLoggerFactory(logger, { reqId: 'r-2' }, { level: 'error' });
    expect(quiet.level).toBe('error');
    quiet.info('dropped');
    quiet.error({ headers: { authorization: 'Bearer canary-secret-value' } }, 'kept');
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).not.toContain('canary-secret-value');
    expect(lines[0]!.reqId).toBe('r-2');
  });

  it('passes child() and level changes through to the real child', () => {
    const { lines, logger } = capture();
    const log = lazyChildLoggerFactory(logger, { reqId: 'r-3' }, {});
    log.level = 'warn';
    log.info('dropped');
    log.child({ part: 'inner' }).warn('nested');
    expect(lines).toEqual([expect.objectContaining({ reqId: 'r-3', part: 'inner', msg: 'nested' })]);
  });
});
