import type { ReencryptProgress } from './reencryption.js';

const WIDTH = 30;

const clock = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
};

/** One line of the TTY progress bar: `[#####-----]  45%  4,500/10,000  12,345/s  ETA 0:03  (records)`. */
export function progressLine(p: ReencryptProgress): string {
  const fraction = p.total > 0 ? Math.min(1, p.processed / p.total) : 1;
  const filled = Math.round(fraction * WIDTH);
  const eta = p.etaSeconds === null ? '--:--' : clock(p.etaSeconds);
  return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${p.processed.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')}  ${p.ratePerSecond.toLocaleString('en-US')}/s  ETA ${eta}  (${p.phase})`;
}

/**
 * How `latchkey keys reencrypt` shows progress: a bar redrawn in place with the rate and
 * ETA when the output is a terminal, else one JSON object per line (for scripts and logs),
 * at most every `intervalMs` except for phase changes.
 */
export function progressReporter(out: NodeJS.WriteStream | NodeJS.WritableStream, opts: { tty: boolean; intervalMs?: number }) {
  let last = 0;
  let lastPhase = '';
  return {
    update(p: ReencryptProgress) {
      const now = Date.now();
      if (p.phase === lastPhase && now - last < (opts.intervalMs ?? (opts.tty ? 100 : 1000))) return;
      last = now;
      lastPhase = p.phase;
      if (opts.tty) out.write(`\r${progressLine(p)}\u001b[K`);
      else out.write(`${JSON.stringify({ event: 'progress', ...p })}\n`);
    },
    end() {
      if (opts.tty && lastPhase) out.write('\n');
    },
  };
}
