import { useEffect, useState } from 'react';

/** The current time, re-rendering every `everyMs` (for countdowns). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** `3d 4h`, `2h 5m`, `4m 10s`, `12s` — the two largest units. */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

const absolute = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "5m ago" / "in 2h", with the exact time on hover and for screen readers via `<time>`. */
export function RelativeTime({ at }: { at: string | null | undefined }) {
  const now = useNow(30_000);
  if (!at) return <span className="muted">—</span>;
  const diff = new Date(at).getTime() - now;
  const text = Math.abs(diff) < 5000 ? 'just now' : diff < 0 ? `${span(diff)} ago` : `in ${span(diff)}`;
  return (
    <time dateTime={at} title={absolute(at)}>
      {text}
    </time>
  );
}

/** Time left until a credential expires, ticking every second; warns under an hour. */
export function ExpiryCountdown({ expiresAt }: { expiresAt: string | null | undefined }) {
  const now = useNow(1000);
  if (!expiresAt) return <span className="muted">no expiry</span>;
  const left = new Date(expiresAt).getTime() - now;
  const tone = left <= 0 ? 'danger' : left < 3600_000 ? 'warning' : 'ok';
  return (
    <time dateTime={expiresAt} title={absolute(expiresAt)} className={`countdown countdown-${tone}`}>
      {left <= 0 ? `expired ${span(left)} ago` : `expires in ${span(left)}`}
    </time>
  );
}

export const formatDateTime = absolute;
