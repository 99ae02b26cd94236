import { Fragment, useState } from 'react';
import { ALL_CONTRACTS } from '../../../src/contracts/index.js';
import { useStudio } from '../api/studio-context.js';
import type { AuditEvent } from '../api/types.js';
import { useAction, useLoad, usePaged } from '../api/use-load.js';
import { LoadMore } from '../components/load-more.js';
import { Badge, type Tone } from '../components/badge.js';
import { EmptyState, Loading, ProblemBanner } from '../components/feedback.js';
import { Icon } from '../components/icons.js';
import { FilterSelect } from '../components/filter-select.js';
import { PageHeader } from '../components/page-header.js';
import { formatDateTime } from '../components/time.js';
import { useRouter } from '../router.js';

const SHORT_TIME = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const OUTCOME_TONE: Record<AuditEvent['outcome'], Tone> = { success: 'success', denied: 'warning', error: 'danger' };
const ACTIONS = [...new Set(ALL_CONTRACTS.map((c) => c.meta.key))].sort();
const FILTERS = ['action', 'actorKeyId', 'resourceType', 'resourceId', 'outcome', 'since', 'until'] as const;
type FilterName = (typeof FILTERS)[number];

/** `datetime-local` ⇄ ISO for the since/until filters. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : '');

/**
 * The audit log, newest first, filtered by action, actor, resource, outcome and time, with
 * the hash chain's verification status on top. Events carry names of changed fields and
 * secrets, never values.
 */
export function AuditPage() {
  const { lk, can } = useStudio();
  const { location, navigate } = useRouter();
  const q = location.query;
  const applied = Object.fromEntries(FILTERS.map((f) => [f, q.get(f) ?? ''])) as Record<FilterName, string>;
  const [draft, setDraft] = useState(applied);
  const [open, setOpen] = useState<string | null>(null);
  const list = usePaged(
    (c, cursor) =>
      c.listAuditEvents({
        limit: 50,
        ...(cursor ? { cursor } : {}),
        ...(applied.action ? { action: applied.action } : {}),
        ...(applied.actorKeyId ? { actorKeyId: applied.actorKeyId } : {}),
        ...(applied.resourceType ? { resourceType: applied.resourceType } : {}),
        ...(applied.resourceId ? { resourceId: applied.resourceId } : {}),
        ...(applied.outcome ? { outcome: applied.outcome as AuditEvent['outcome'] } : {}),
        ...(applied.since ? { since: toIso(applied.since) } : {}),
        ...(applied.until ? { until: toIso(applied.until) } : {}),
      }),
    FILTERS.map((f) => applied[f]),
  );
  const chain = useLoad((c) => c.verifyAuditChain({}), []);
  // Key names make actors readable; only keys that may list keys can have them.
  const keys = useLoad((c) => (can('platform.access.manage') ? c.listApiKeys({ limit: 200, includeRevoked: true }) : Promise.resolve(null)), []);
  const keyNames = new Map((keys.data?.data ?? []).map((k) => [k.id, k.name]));
  const verify = useAction();

  const apply = (next: Record<FilterName, string>) => {
    const params = new URLSearchParams();
    for (const f of FILTERS) if (next[f]) params.set(f, next[f]);
    navigate(`/audit${params.size ? `?${params}` : ''}`, { replace: true });
  };
  const set = (name: FilterName, value: string) => setDraft((d) => ({ ...d, [name]: value }));
  const filtered = FILTERS.some((f) => applied[f]);

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Who did what, to which record, when — and whether it was allowed."
        actions={
          <button
            type="button"
            className="btn btn-secondary"
            disabled={verify.busy || chain.loading}
            onClick={() => verify.run(async () => chain.setData(await lk.verifyAuditChain({})))}
          >
            <Icon name="shield" size={16} />
            Verify chain
          </button>
        }
      />
      <ChainStatus loading={chain.loading || verify.busy} result={chain.data} error={chain.error ?? verify.error} />
      <form
        className="filters filters-wrap"
        role="search"
        aria-label="Filter audit events"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <label className="filter">
          <span className="filter-label">Action</span>
          <input className="input" list="audit-actions" value={draft.action} onChange={(e) => set('action', e.target.value)} placeholder="any" />
          <datalist id="audit-actions">
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label className="filter">
          <span className="filter-label">Actor key id</span>
          <input className="input mono" value={draft.actorKeyId} onChange={(e) => set('actorKeyId', e.target.value)} placeholder="any" />
        </label>
        <label className="filter">
          <span className="filter-label">Resource type</span>
          <input className="input" value={draft.resourceType} onChange={(e) => set('resourceType', e.target.value)} placeholder="e.g. connection" />
        </label>
        <label className="filter">
          <span className="filter-label">Resource id</span>
          <input className="input mono" value={draft.resourceId} onChange={(e) => set('resourceId', e.target.value)} placeholder="any" />
        </label>
        <FilterSelect label="Outcome" value={draft.outcome} onChange={(v) => set('outcome', v)} options={[['success', 'Success'], ['denied', 'Denied'], ['error', 'Error']]} />
        <label className="filter">
          <span className="filter-label">Since</span>
          <input className="input" type="datetime-local" value={draft.since} onChange={(e) => set('since', e.target.value)} />
        </label>
        <label className="filter">
          <span className="filter-label">Until</span>
          <input className="input" type="datetime-local" value={draft.until} onChange={(e) => set('until', e.target.value)} />
        </label>
        <div className="filter filter-buttons">
          <button type="submit" className="btn btn-primary">
            Apply
          </button>
          {filtered ? (
            <button
              type="button"
              className="btn btn-secondary"
              onClick={() => {
                const empty = Object.fromEntries(FILTERS.map((f) => [f, ''])) as Record<FilterName, string>;
                setDraft(empty);
                apply(empty);
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>
      <ProblemBanner error={list.error} />
      {list.loading && list.items.length === 0 ? (
        <Loading label="Loading events…" />
      ) : list.items.length === 0 && !list.error ? (
        <EmptyState title={filtered ? 'No events match' : 'No events yet'}>{filtered ? 'Change or clear the filters.' : 'Every change and use is recorded here.'}</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table table-audit">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action and resource</th>
                <th scope="col" className="hide-sm">
                  Actor
                </th>
                <th scope="col">Outcome</th>
                <th scope="col" className="hide-sm">
                  Changes
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((e) => (
                <Fragment key={e.id}>
                  <tr data-action={e.action}>
                    <td className="nowrap">
                      <button type="button" className="link-btn" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                        <time dateTime={e.at} title={formatDateTime(e.at)}>
                          {SHORT_TIME.format(new Date(e.at))}
                        </time>
                      </button>
                    </td>
                    <td>
                      <code>{e.action}</code>
                      {e.resource ? (
                        <div className="small resource">
                          <span className="muted">{e.resource.type}</span> <span className="mono">{e.resource.id}</span>
                        </div>
                      ) : null}
                    </td>
                    <td className="hide-sm small" title={e.actor.keyId ?? undefined}>
                      {e.actor.type === 'system' ? <span className="muted">system</span> : <Actor keyId={e.actor.keyId} names={keyNames} />}
                    </td>
                    <td>
                      <Badge tone={OUTCOME_TONE[e.outcome]}>
                        {e.outcome} {e.status}
                      </Badge>
                    </td>
                    <td className="hide-sm small">
                      <Changes event={e} limit={3} />
                    </td>
                  </tr>
                  {open === e.id ? (
                    <tr className="row-detail">
                      <td colSpan={5}>
                        <dl className="facts facts-inline">
                          <div>
                            <dt>Event</dt>
                            <dd className="mono">
                              {e.id} (#{e.seq})
                            </dd>
                          </div>
                          <div>
                            <dt>Request</dt>
                            <dd className="mono">{e.requestId ?? '—'}</dd>
                          </div>
                          <div>
                            <dt>IP</dt>
                            <dd className="mono">{e.ip ?? '—'}</dd>
                          </div>
                          <div>
                            <dt>User</dt>
                            <dd className="mono">{e.actor.userId ?? '—'}</dd>
                          </div>
                          <div>
                            <dt>Changes</dt>
                            <dd>
                              <Changes event={e} />
                            </dd>
                          </div>
                          <div>
                            <dt>Hash</dt>
                            <dd className="mono small break">{e.hash}</dd>
                          </div>
                        </dl>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={list} label="Load older events" />
    </>
  );
}

/** Changed field names, secrets first (names only); `limit` keeps table rows one line high. */
function Changes({ event, limit = Infinity }: { event: AuditEvent; limit?: number }) {
  if (!event.changes || (event.changes.fields.length === 0 && event.changes.secretsChanged.length === 0)) return <span className="muted">—</span>;
  const all = [...event.changes.secretsChanged.map((name) => ({ name, secret: true })), ...event.changes.fields.map((name) => ({ name, secret: false }))];
  const shown = all.slice(0, limit);
  return (
    <span className="tag-list">
      {shown.map((c) =>
        c.secret ? (
          <Badge key={`s:${c.name}`} tone="warning" title="secret changed (its name only; values are never recorded)">
            {c.name}
          </Badge>
        ) : (
          <Badge key={`f:${c.name}`}>{c.name}</Badge>
        ),
      )}
      {all.length > shown.length ? <span className="changes-more">+{all.length - shown.length} more</span> : null}
    </span>
  );
}

function Actor({ keyId, names }: { keyId: string | null; names: ReadonlyMap<string, string> }) {
  if (!keyId) return <span className="muted">—</span>;
  const name = names.get(keyId);
  return name ? <span>{name}</span> : <span className="mono">{keyId}</span>;
}

function ChainStatus({ loading, result, error }: { loading: boolean; result: { ok: boolean; checked: number; firstProblem: { seq: number; problem: string } | null } | undefined; error: unknown }) {
  if (error) return <ProblemBanner error={error} />;
  if (loading && !result) {
    return (
      <div className="chain chain-pending" role="status">
        <span className="spinner" aria-hidden="true" /> Verifying the hash chain…
      </div>
    );
  }
  if (!result) return null;
  return result.ok ? (
    <div className="chain chain-ok" role="status" data-testid="chain-status" data-ok="true">
      <Icon name="shield" size={18} />
      <span>
        <strong>Chain intact.</strong> {result.checked} events checked; none edited, deleted or reordered.
      </span>
    </div>
  ) : (
    <div className="chain chain-fail" role="alert" data-testid="chain-status" data-ok="false">
      <Icon name="alert" size={18} />
      <span>
        <strong>Chain broken</strong> at event #{result.firstProblem?.seq}: {result.firstProblem?.problem.replace(/_/g, ' ')}. {result.checked} events checked.
      </span>
    </div>
  );
}
