import type { ReactNode } from 'react';

export type Tone = 'neutral' | 'success' | 'warning' | 'danger' | 'info' | 'muted';

export function Badge({ tone = 'neutral', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const STATUS_TONE: Record<string, Tone> = { active: 'success', expired: 'warning', error: 'danger', disabled: 'muted' };

/** A connection's status (active, expired, error, disabled) as a coloured badge with a dot. */
export function StatusBadge({ status, reason }: { status: string; reason?: string | null }) {
  return (
    <span className={`badge badge-${STATUS_TONE[status] ?? 'neutral'} badge-dot`} title={reason ?? undefined} data-status={status}>
      {status}
    </span>
  );
}

export function EnabledBadge({ enabled }: { enabled: boolean }) {
  return <Badge tone={enabled ? 'success' : 'muted'}>{enabled ? 'enabled' : 'disabled'}</Badge>;
}

/** "set" / "not set" for a write-only field: the only thing ever shown about a secret. */
export function SecretStateBadge({ set }: { set: boolean }) {
  return (
    <span className={`badge ${set ? 'badge-info' : 'badge-muted'}`} data-secret-state={set ? 'set' : 'not-set'}>
      {set ? 'set' : 'not set'}
    </span>
  );
}
