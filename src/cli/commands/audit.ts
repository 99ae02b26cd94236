import { createWriteStream } from 'node:fs';
import { type Command, Option } from 'commander';
import type { TenantChainReport } from '../../audit/chain-report.js';
import { CliFailure, EXIT } from '../exit-codes.js';
import { type ServerFlags, addStorageOptions, configFrom } from '../server-options.js';

async function session(flags: ServerFlags) {
  const { openOfflineSession } = await import('../../keys/offline-session.js');
  return openOfflineSession(configFrom(flags), (m) => process.stderr.write(`latchkey: ${m}\n`));
}

function reportText(reports: TenantChainReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.ok ? 'ok      ' : 'TAMPERED'}  ${r.tenantId}: ${r.checked} events checked, head at event ${r.headSeq}`);
    for (const f of r.findings) lines.push(`          position ${f.seq}: ${f.problem} — ${f.detail}${f.eventId ? ` [${f.eventId}]` : ''}`);
  }
  return lines.join('\n');
}

/**
 * `latchkey audit verify|export`, on the database itself (every tenant, no server needed;
 * the chain key derives from the root key, so the root key is needed too). Against a
 * running server, `latchkey audit chain verify` checks the caller's tenant.
 */
export function addAuditCommands(program: Command): void {
  const audit = program.commands.find((c) => c.name() === 'audit') ?? program.command('audit');
  audit.description('The audit trail: verify and export on the database itself; `event list` and `chain verify` ask a running server');

  const verify = audit
    .command('verify')
    .description(
      'Verify every tenant\'s audit hash chain and report each edited, deleted, reordered or truncated event with its position. ' +
        'Exits 1 when any chain is broken.',
    )
    .addOption(new Option('--tenant <id>', 'one tenant only'))
    .option('--json', 'print the reports as JSON');
  addStorageOptions(verify).action(async (flags: ServerFlags & { tenant?: string; json?: boolean }) => {
    const { reportTenantChain } = await import('../../audit/chain-report.js');
    const s = await session(flags);
    let reports: TenantChainReport[];
    try {
      let tenants = s.store.db.selectFrom('tenants').select('id').orderBy('id');
      if (flags.tenant) tenants = tenants.where('id', '=', flags.tenant);
      const ids = (await tenants.execute()).map((t) => t.id);
      if (flags.tenant && ids.length === 0) throw new CliFailure(`no tenant ${flags.tenant}`, EXIT.notFound);
      reports = [];
      for (const id of ids) reports.push(await reportTenantChain(s.store.db, s.audit.chainKey, id));
    } finally {
      await s.close();
    }
    const ok = reports.every((r) => r.ok);
    process.stdout.write(flags.json ? `${JSON.stringify({ ok, tenants: reports }, null, 2)}\n` : `${reportText(reports)}\n`);
    if (!ok) throw new CliFailure(`the audit chain of ${reports.filter((r) => !r.ok).map((r) => r.tenantId).join(', ')} is broken`, EXIT.failure);
  });

  const exportCommand = audit
    .command('export')
    .description('Write audit events as JSON lines (oldest first, with their hashes) to a file or stdout')
    .addOption(new Option('--tenant <id>', 'one tenant only (default: every tenant)'))
    .addOption(new Option('--since <iso>', 'events at or after this time'))
    .addOption(new Option('--out <file>', 'write to this file instead of stdout (created with mode 0600)'));
  addStorageOptions(exportCommand).action(async (flags: ServerFlags & { tenant?: string; since?: string; out?: string }) => {
    const { exportAuditEvents } = await import('../../audit/export-events.js');
    const since = flags.since ? new Date(flags.since) : null;
    if (since && Number.isNaN(since.getTime())) throw new CliFailure('--since must be an ISO 8601 date-time', EXIT.usage);
    const out = flags.out ? createWriteStream(flags.out, { mode: 0o600 }) : process.stdout;
    const s = await session(flags);
    try {
      const count = await exportAuditEvents(s.store.db, out, { ...(flags.tenant ? { tenantId: flags.tenant } : {}), ...(since ? { since } : {}) });
      if (flags.out) {
        await new Promise<void>((resolve, reject) => {
          out.once('error', reject);
          out.end(() => resolve());
        });
        process.stderr.write(`exported ${count} events to ${flags.out}\n`);
      }
    } finally {
      await s.close();
    }
  });
}
