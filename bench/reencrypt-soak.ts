/**
 * Crash soak for re-encryption: many more `kill -9`s than the test suite affords.
 *
 *   node --import tsx bench/reencrypt-soak.ts [--runs 200] [--connections 100] [--parallel 2] [--seed N]
 *
 * Each run copies a seeded SQLite data directory, starts a child re-encrypting it
 * (test/keys/support/reencrypt-child.ts, bundled), kills it with SIGKILL at a random point
 * (by time from spawn, or after a random number of committed batches plus a jitter), then
 * checks that every secret still decrypts to its original value, that a resumed run
 * completes with nothing left under an old data key, and that every audit chain verifies.
 * Exits 1 on the first run that breaks any of these, printing its kill plan and seed.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildChild, copyDataDir, makeTemplate, recover, rng, runAndKill } from '../test/keys/support/crash-harness.js';
import { isMain, runMain } from './lib/main.js';


async function main(): Promise<number> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, connections: { type: 'string' }, parallel: { type: 'string' }, seed: { type: 'string' } } });
  const runs = Number(values.runs ?? 200);
  const parallel = Number(values.parallel ?? 2);
  const seed = Number(values.seed ?? Date.now() % 1_000_000);
  const random = rng(seed);
  const [child, template] = await Promise.all([buildChild(), makeTemplate(Number(values.connections ?? 100))]);
  const rows = template.written.reduce((n, w) => n + w.connections.size * 2 + 1, 0);
  process.stderr.write(`soak: seed ${seed}, ${runs} runs, ${rows} secrets per run, ${parallel} at a time\n`);
  const counts = { none: 0, running: 0, done: 0, midway: 0 };
  let failures = 0;
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < runs && failures === 0) {
      const i = next++;
      const plan = random() < 0.25 ? { afterMs: Math.floor(random() * 1200) } : { afterLines: 1 + Math.floor(random() * 60), jitterMs: Math.floor(random() * 8) };
      const dir = copyDataDir(template.dir);
      try {
        await runAndKill(child, dir, plan);
        const o = await recover(dir, template);
        counts[o.jobState]++;
        if (o.jobState === 'running' && o.jobProcessed > 0 && o.jobProcessed < o.jobTotal) counts.midway++;
        const broken = o.mismatches.length > 0 || !o.completed || o.staleAfter > 0 || !o.chainsOk || (o.jobState === 'running' && !o.resumed);
        if (broken) {
          failures++;
          process.stderr.write(`soak: run ${i} FAILED (seed ${seed}, plan ${JSON.stringify(plan)}): ${JSON.stringify(o)}\n`);
        }
        if ((i + 1) % 20 === 0) process.stderr.write(`soak: ${i + 1}/${runs} runs, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  rmSync(template.dir, { recursive: true, force: true });
  rmSync(child, { force: true });
  process.stdout.write(
    `soak: ${next} runs in ${((Date.now() - started) / 1000).toFixed(0)} s — killed before the job started ${counts.none}, ` +
      `with the job running ${counts.running} (mid-way through the records ${counts.midway}), after it finished ${counts.done}; ` +
      `${failures === 0 ? 'every secret decrypted and every resumed run completed' : `${failures} FAILED`}\n`,
  );
  return failures === 0 ? 0 : 1;
}

if (isMain(import.meta.url)) runMain(main);
