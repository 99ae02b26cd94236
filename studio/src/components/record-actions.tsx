import { Icon } from './icons.js';

/**
 * The Enable/Disable and Delete buttons at the end of a record page's actions (integration,
 * connection); deleting only asks, the page confirms.
 *
 * @example
 * ```tsx
 * <ToggleAndDelete enabled={record.enabled} busy={action.busy} onToggle={toggle} onDelete={() => setConfirmDelete(true)} />
 * ```
 */
export function ToggleAndDelete({ enabled, busy, onToggle, onDelete }: { enabled: boolean; busy: boolean; onToggle: () => void; onDelete: () => void }) {
  return (
    <>
      <button type="button" className="btn btn-secondary" onClick={onToggle} disabled={busy}>
        {enabled ? 'Disable' : 'Enable'}
      </button>
      <button type="button" className="btn btn-ghost-danger" onClick={onDelete} disabled={busy}>
        <Icon name="trash" size={16} />
        Delete
      </button>
    </>
  );
}
