/**
 * Re-encryption survives `kill -9` at any point: a child process re-encrypting a SQLite
 * data directory is killed with SIGKILL at random moments (during start-up and job
 * creation, between and inside batches, during the sweep and retirement). Afterwards every
 * secret decrypts to its original value, and a resumed run completes with everything
 * under the new data keys. bench/reencrypt-soak.ts runs the same for hundreds of kills.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Template, buildChild, copyDataDir, makeTemplate, recover, rng, runAndKill } from './support/crash-harness.js';

const RUNS = 22;
const PARALLEL = 3;


describe('re-encryption killed with SIGKILL at random points', () => {
  let child: string;
  let template: Template;
  const dirs: string[] = [];
  const seed = Number(process.env.LATCHKEY_CRASH_SEED ?? Date.now() % 1_000_000);

  beforeAll(async () => {
    [child, template] = await Promise.all([buildChild(), makeTemplate(40)]);
  }, 120_000);
  afterAll(() => {
    for (const dir of [...dirs, template?.dir, child]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`${RUNS} kills: every secret still decrypts to its original value and a resumed run completes (seed in the test name on failure)`, async () => {
    const random = rng(seed);
    // Plans drawn up front so the seed alone fixes them: a quarter by time from spawn (start-up,
    // job creation), the rest after a random number of committed batches plus a jitter.
    const plans = Array.from({ length: RUNS }, () =>
      random() < 0.25 ? { afterMs: Math.floor(random() * 900) } : { afterLines: 1 + Math.floor(random() * 22), jitterMs: Math.floor(random() * 6) },
    );
    const outcomes: Array<Awaited<ReturnType<typeof recover>> & { plan: (typeof plans)[number] }> = [];
    let next = 0;
    const worker = async () => {
      while (next < plans.length) {
        const plan = plans[next++]!;
        const dir = copyDataDir(template.dir);
        dirs.push(dir);
        await runAndKill(child, dir, plan);
        outcomes.push({ ...(await recover(dir, template)), plan });
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));

    const where = `seed ${seed}`;
    expect(outcomes).toHaveLength(RUNS);
    for (const o of outcomes) {
      const what = `${where}, plan ${JSON.stringify(o.plan)}`;
      expect(o.mismatches, what).toEqual([]);
      expect(o.completed, what).toBe(true);
      expect(o.staleAfter, what).toBe(0);
      expect(o.chainsOk, what).toBe(true);
      // A job the killed run had started is continued, not started again.
      if (o.jobState === 'running') expect(o.resumed, what).toBe(true);
    }
    // The kills really landed in the middle of the work, not only before or after it.
    const midway = outcomes.filter((o) => o.jobState === 'running' && o.jobProcessed > 0 && o.jobProcessed < o.jobTotal);
    expect(midway.length, `${where}: kills mid-way ${midway.length}`).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('the real CLI, `latchkey keys reencrypt`, killed mid-run, resumes and completes', async () => {
    const dir = copyDataDir(template.dir);
    dirs.push(dir);
    const cli = resolve(import.meta.dirname, '../../src/cli/main.ts');
    // Slowed down (--max-rate) so the kill lands mid-run.
    const killed = await new Promise<number>((done, fail) => {
      const p = spawn(process.execPath, ['--import', 'tsx', cli, 'keys', 'reencrypt', '--data-dir', dir, '--batch-size', '5', '--max-rate', '60', '--json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LATCHKEY_LOG_LEVEL: 'warn' },
      });
      let lines = 0;
      p.stdout.on('data', (chunk: Buffer) => {
        lines += chunk.toString('utf8').split('\n').filter((l) => l.includes('"event":"progress"')).length;
        // JSON progress comes at most once a second: the second line is about a second in.
        if (lines >= 2) p.kill('SIGKILL');
      });
      p.on('error', fail);
      p.on('exit', () => done(lines));
    });
    expect(killed).toBeGreaterThanOrEqual(2);
    const outcome = await recover(dir, template);
    expect(outcome.jobState).toBe('running');
    expect(outcome.jobProcessed).toBeGreaterThan(0);
    expect(outcome.jobProcessed).toBeLessThan(outcome.jobTotal);
    expect(outcome.mismatches).toEqual([]);
    expect(outcome.resumed).toBe(true);
    expect(outcome.completed).toBe(true);
    expect(outcome.staleAfter).toBe(0);
  }, 60_000);
});
