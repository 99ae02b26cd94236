import { type FormEvent, useRef, useState } from 'react';
import { useStudio } from '../api/studio-context.js';
import { useFormErrors } from '../forms/use-form-errors.js';
import { CopyField } from '../components/copy-field.js';
import { Dialog } from '../components/dialog.js';
import { ProblemBanner } from '../components/feedback.js';
import { Field, fieldProps } from '../components/field.js';
import { Icon } from '../components/icons.js';
import { ExpiryCountdown } from '../components/time.js';
import { errorAt } from '../forms/errors.js';

const CONNECTION_ID = /^[A-Za-z0-9._:@-]{1,255}$/;

/**
 * "Create connect link": a one-time URL an end user opens to connect their account through
 * the provider's OAuth consent (`connect.session.create`).
 */
export function ConnectLinkButton({ integrationKey, connectionId }: { integrationKey: string; connectionId?: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="btn btn-secondary" onClick={() => setOpen(true)}>
        <Icon name="link" size={16} />
        {connectionId ? 'Reconnect link' : 'Create connect link'}
      </button>
      <ConnectLinkDialog open={open} onClose={() => setOpen(false)} integrationKey={integrationKey} connectionId={connectionId} />
    </>
  );
}

function ConnectLinkDialog({ open, onClose, integrationKey, connectionId }: { open: boolean; onClose: () => void; integrationKey: string; connectionId: string | undefined }) {
  const { lk } = useStudio();
  const formRef = useRef<HTMLFormElement>(null);
  const [id, setId] = useState(connectionId ?? '');
  const [redirectUrl, setRedirectUrl] = useState('');
  const [expiresIn, setExpiresIn] = useState('1800');
  const [metadata, setMetadata] = useState('');
  const [session, setSession] = useState<{ connectUrl: string; expiresAt: string } | null>(null);
  const { action, setLocal, errors } = useFormErrors(formRef);

  const close = () => {
    setSession(null); // the link holds a one-time token: forget it with the dialog
    action.setError(undefined);
    onClose();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const errs = new Map<string, string>();
    if (!CONNECTION_ID.test(id)) errs.set('connectionId', id ? 'use letters, digits and . _ : @ -' : 'is required');
    let meta: Record<string, unknown> | undefined;
    if (metadata.trim()) {
      try {
        const parsed: unknown = JSON.parse(metadata);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) errs.set('metadata', 'must be a JSON object');
        else meta = parsed as Record<string, unknown>;
      } catch {
        errs.set('metadata', 'is not valid JSON');
      }
    }
    setLocal(errs);
    if (errs.size > 0) return;
    const created = await action.run(() =>
      lk.createConnectSession({
        integration: integrationKey,
        connectionId: id,
        expiresIn: Number(expiresIn),
        ...(redirectUrl.trim() ? { redirectUrl: redirectUrl.trim() } : {}),
        ...(meta ? { metadata: meta } : {}),
      }),
    );
    if (created) setSession(created);
  };

  return (
    <Dialog open={open} onClose={close} title="Create connect link" wide>
      {session ? (
        <div className="stack">
          <p>Send this link to the end user. It works once and only until it expires; their tokens are stored as connection <code>{id}</code>.</p>
          <CopyField label="Connect URL" value={session.connectUrl} testId="connect-url" />
          <p className="small">
            <ExpiryCountdown expiresAt={session.expiresAt} />
          </p>
          <div className="form-actions">
            <button type="button" className="btn btn-secondary" onClick={() => setSession(null)}>
              Create another
            </button>
            <button type="button" className="btn btn-primary" onClick={close}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form ref={formRef} onSubmit={submit} noValidate className="form">
          <ProblemBanner error={action.error} shownPaths={new Set(['connectionId', 'redirectUrl', 'expiresIn', 'metadata'])} />
          <Field label="Connection id" required hint="The id the connection gets, typically your user’s or customer’s id." error={errorAt(errors, 'connectionId')}>
            {(ids) => <input {...fieldProps(ids)} className="input mono" value={id} onChange={(e) => setId(e.target.value)} readOnly={Boolean(connectionId)} autoFocus={!connectionId} autoComplete="off" />}
          </Field>
          <Field label="Redirect URL" hint="Where the user lands afterwards, with status=success or status=error in the query." error={errorAt(errors, 'redirectUrl')}>
            {(ids) => <input {...fieldProps(ids)} className="input mono" value={redirectUrl} onChange={(e) => setRedirectUrl(e.target.value)} placeholder="https://app.example.com/settings" inputMode="url" />}
          </Field>
          <Field label="Valid for" error={errorAt(errors, 'expiresIn')}>
            {(ids) => (
              <select {...fieldProps(ids)} className="input" value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)}>
                <option value="900">15 minutes</option>
                <option value="1800">30 minutes</option>
                <option value="3600">1 hour</option>
                <option value="86400">24 hours</option>
              </select>
            )}
          </Field>
          <Field label="Metadata" hint="Optional JSON object stored on the connection when the flow completes." error={errorAt(errors, 'metadata')}>
            {(ids) => <textarea {...fieldProps(ids)} className="input mono" rows={3} value={metadata} onChange={(e) => setMetadata(e.target.value)} placeholder='{"plan": "pro"}' spellCheck={false} />}
          </Field>
          <div className="form-actions">
            <button type="button" className="btn btn-secondary" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={action.busy}>
              {action.busy ? 'Creating…' : 'Create link'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
