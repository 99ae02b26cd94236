import { type FormEvent, useRef, useState } from 'react';
import type { OperationOutput } from '../../../src/surfaces/client/index.js';
import type { CreateWebhookEndpoint, ListWebhookDeliveries, ListWebhookEndpoints } from '../../../src/surfaces/client/contract-modules.js';
import { WEBHOOK_EVENT_TYPES } from '../../../src/webhooks/webhook-events.js';
import { messageOf } from '../api/problems.js';
import { useStudio } from '../api/studio-context.js';
import { useAction, usePaged } from '../api/use-load.js';
import { useFormErrors } from '../forms/use-form-errors.js';
import { LoadMore } from '../components/load-more.js';
import { Badge, EnabledBadge, type Tone } from '../components/badge.js';
import { CopyField } from '../components/copy-field.js';
import { ConfirmDialog, Dialog } from '../components/dialog.js';
import { EmptyState, Loading, Notice, ProblemBanner } from '../components/feedback.js';
import { CheckField, Field, fieldProps } from '../components/field.js';
import { Icon } from '../components/icons.js';
import { PageHeader } from '../components/page-header.js';
import { RelativeTime } from '../components/time.js';
import { errorAt } from '../forms/errors.js';

type Endpoint = OperationOutput<typeof ListWebhookEndpoints>['data'][number];
type Created = OperationOutput<typeof CreateWebhookEndpoint>;
type Delivery = OperationOutput<typeof ListWebhookDeliveries>['data'][number];
const DELIVERY_TONE: Record<Delivery['status'], Tone> = { pending: 'info', succeeded: 'success', failed: 'danger' };

/**
 * Webhook endpoints: where connection events are sent, signed per Standard Webhooks. The
 * signing secret is shown once at creation; deliveries show every attempt.
 */
export function WebhooksPage() {
  const { lk, notify } = useStudio();
  const list = usePaged((c, cursor) => c.listWebhookEndpoints({ limit: 100, ...(cursor ? { cursor } : {}) }), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [deleting, setDeleting] = useState<Endpoint | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const action = useAction();

  const toggle = async (endpoint: Endpoint) => {
    const saved = await action.run(() => lk.updateWebhookEndpoint({ id: endpoint.id, enabled: !endpoint.enabled }, { ifMatch: endpoint.version }));
    if (saved) {
      notify(endpoint.enabled ? 'Endpoint paused' : 'Endpoint enabled');
      list.reload();
    }
  };
  const remove = async () => {
    if (!deleting) return;
    const done = await action.run(() => lk.deleteWebhookEndpoint({ id: deleting.id }, { ifMatch: deleting.version }));
    if (done) {
      notify('Endpoint deleted');
      setDeleting(null);
      list.reload();
    }
  };

  return (
    <>
      <PageHeader
        title="Webhooks"
        subtitle="Get told when a connection is created, changes, breaks or recovers."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            <Icon name="plus" size={16} />
            New endpoint
          </button>
        }
      />
      {created ? (
        <div className="reveal-once">
          <Notice tone="success">
            <strong>Endpoint created.</strong> Copy its signing secret now: it is shown only this once.
          </Notice>
          <CopyField label="Signing secret" value={created.secret} />
          <button type="button" className="btn btn-secondary" onClick={() => setCreated(null)}>
            I have stored it
          </button>
        </div>
      ) : null}
      {action.error && !deleting ? <ProblemBanner error={action.error} onDismiss={() => action.setError(undefined)} /> : null}
      <ProblemBanner error={list.error} />
      {list.loading && list.items.length === 0 ? (
        <Loading />
      ) : list.items.length === 0 && !list.error ? (
        <EmptyState title="No webhook endpoints">Add one to receive connection events instead of polling.</EmptyState>
      ) : (
        <ul className="stack-list">
          {list.items.map((w) => (
            <li key={w.id} className="panel endpoint">
              <div className="endpoint-head">
                <div className="endpoint-main">
                  <span className="mono break">{w.url}</span>
                  <EnabledBadge enabled={w.enabled} />
                  {w.description ? <div className="muted small">{w.description}</div> : null}
                  <div className="tag-list">
                    {w.events.map((e) => (
                      <Badge key={e}>{e}</Badge>
                    ))}
                  </div>
                </div>
                <div className="panel-actions">
                  <button type="button" className="btn btn-small btn-secondary" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>
                    Deliveries
                  </button>
                  <button type="button" className="btn btn-small btn-secondary" onClick={() => toggle(w)} disabled={action.busy}>
                    {w.enabled ? 'Pause' : 'Enable'}
                  </button>
                  <button type="button" className="btn btn-small btn-ghost-danger" onClick={() => setDeleting(w)} aria-label={`Delete endpoint ${w.url}`}>
                    Delete
                  </button>
                </div>
              </div>
              {open === w.id ? <Deliveries endpointId={w.id} /> : null}
            </li>
          ))}
        </ul>
      )}
      <Dialog open={creating} title="New webhook endpoint" onClose={() => setCreating(false)} wide>
        <CreateEndpointForm
          onCancel={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            setCreated(c);
            list.reload();
          }}
        />
      </Dialog>
      <ConfirmDialog open={deleting !== null} title="Delete this endpoint?" confirmLabel="Delete endpoint" danger busy={action.busy} onConfirm={remove} onClose={() => setDeleting(null)}>
        <p>Its signing secret and pending deliveries are deleted with it.</p>
        {action.error ? <p className="field-error">{messageOf(action.error)}</p> : null}
      </ConfirmDialog>
    </>
  );
}

function Deliveries({ endpointId }: { endpointId: string }) {
  const list = usePaged((c, cursor) => c.listWebhookDeliveries({ id: endpointId, limit: 20, ...(cursor ? { cursor } : {}) }), [endpointId]);
  if (list.error) return <ProblemBanner error={list.error} />;
  if (list.loading && list.items.length === 0) return <Loading />;
  if (list.items.length === 0) return <p className="muted small">No deliveries yet.</p>;
  return (
    <>
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col" className="hide-sm">
                Attempts
              </th>
              <th scope="col" className="hide-sm">
                Last answer
              </th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((d) => (
              <tr key={d.id}>
                <td>
                  <code>{d.eventType}</code>
                </td>
                <td>
                  <Badge tone={DELIVERY_TONE[d.status]}>{d.status}</Badge>
                  {d.nextAttemptAt ? (
                    <div className="muted small">
                      next <RelativeTime at={d.nextAttemptAt} />
                    </div>
                  ) : null}
                </td>
                <td className="hide-sm">{d.attemptCount}</td>
                <td className="hide-sm small">{d.lastError ?? (d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : '—')}</td>
                <td>
                  <RelativeTime at={d.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LoadMore list={list} label="Load older deliveries" />
    </>
  );
}

function CreateEndpointForm({ onCreated, onCancel }: { onCreated: (c: Created) => void; onCancel: () => void }) {
  const { lk } = useStudio();
  const formRef = useRef<HTMLFormElement>(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>([...WEBHOOK_EVENT_TYPES]);
  const [description, setDescription] = useState('');
  const [enabled, setEnabled] = useState(true);
  const { action, setLocal, errors } = useFormErrors(formRef);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const errs = new Map<string, string>();
    if (!url.trim()) errs.set('url', 'is required');
    if (events.length === 0) errs.set('events', 'choose at least one');
    setLocal(errs);
    if (errs.size > 0) return;
    const created = await action.run(() => lk.createWebhookEndpoint({ url: url.trim(), events: events as Endpoint['events'], enabled, ...(description.trim() ? { description: description.trim() } : {}) }));
    if (created) onCreated(created);
  };
  return (
    <form ref={formRef} onSubmit={submit} noValidate className="form" aria-label="New webhook endpoint">
      <ProblemBanner error={action.error} shownPaths={new Set(['url', 'events', 'description', 'enabled'])} />
      <fieldset disabled={action.busy} className="form-sections">
        <Field label="URL" required hint="Events are POSTed here as JSON." error={errorAt(errors, 'url')}>
          {(ids) => <input {...fieldProps(ids)} className="input mono" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://app.example.com/hooks/latchkey" inputMode="url" autoFocus />}
        </Field>
        <fieldset className="checks">
          <legend className="field-label">Events</legend>
          {WEBHOOK_EVENT_TYPES.map((t) => (
            <CheckField key={t} label={<code>{t}</code>} checked={events.includes(t)} onChange={(on) => setEvents((list) => (on ? [...list, t] : list.filter((x) => x !== t)))} />
          ))}
          {errorAt(errors, 'events') ? <p className="field-error">{errorAt(errors, 'events')}</p> : null}
        </fieldset>
        <Field label="Description" error={errorAt(errors, 'description')}>
          {(ids) => <input {...fieldProps(ids)} className="input" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} />}
        </Field>
        <CheckField label="Enabled" checked={enabled} onChange={setEnabled} />
      </fieldset>
      <div className="form-actions">
        <button type="button" className="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={action.busy}>
          {action.busy ? 'Creating…' : 'Create endpoint'}
        </button>
      </div>
    </form>
  );
}
