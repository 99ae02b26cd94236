/**
 * How results are shown: `--json` prints the operation's output as is (for scripts);
 * otherwise lists become tables and records key/value lines. Outputs come from the
 * server's schema-checked responses, which never carry secret values.
 */
export interface Printer {
  out(text: string): void;
}

const stdoutPrinter: Printer = { out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`) };

/** Columns shown first in tables when present; other scalar fields follow, up to MAX_COLUMNS. */
const PREFERRED = ['key', 'id', 'name', 'displayName', 'provider', 'integration', 'role', 'status', 'enabled', 'scope', 'authMethod', 'action', 'outcome', 'at', 'ok'];
const HIDDEN = new Set(['uid', 'description', 'createdBy', 'updatedBy', 'prevHash', 'hash', 'statusReason']);
const MAX_COLUMNS = 7;
const MAX_CELL = 40;

const isScalar = (v: unknown): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

function columnsOf(rows: Record<string, unknown>[]): string[] {
  const scalars = new Set<string>();
  for (const row of rows) for (const [k, v] of Object.entries(row)) if (isScalar(v) && !HIDDEN.has(k)) scalars.add(k);
  const ordered = [...PREFERRED.filter((k) => scalars.has(k)), ...[...scalars].filter((k) => !PREFERRED.includes(k))];
  return ordered.slice(0, MAX_COLUMNS);
}

export function formatTable(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const columns = columnsOf(rows);
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Nested objects flatten to dotted keys (`hasSecrets.clientSecret  true`); arrays join with commas. */
function flatten(value: unknown, prefix: string, out: Array<[string, string]>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 && prefix) out.push([prefix, '{}']);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value)) {
    out.push([prefix, value.every(isScalar) ? value.map(String).join(', ') || '[]' : JSON.stringify(value)]);
  } else {
    out.push([prefix, value === null || value === undefined ? '-' : String(value)]);
  }
}

export function formatRecord(record: unknown): string {
  const pairs: Array<[string, string]> = [];
  flatten(record, '', pairs);
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

const isPage = (value: unknown): value is { data: Record<string, unknown>[]; nextCursor: string | null } =>
  typeof value === 'object' && value !== null && Array.isArray((value as { data?: unknown }).data) && 'nextCursor' in value;

export function printResult(output: unknown, opts: { json: boolean }, printer: Printer = stdoutPrinter): void {
  if (opts.json) return printer.out(JSON.stringify(output, null, 2));
  if (isPage(output)) {
    printer.out(formatTable(output.data));
    if (output.nextCursor) printer.out(`\nmore: --cursor ${output.nextCursor}  (or --all)`);
    return;
  }
  if (Array.isArray(output)) return printer.out(formatTable(output as Record<string, unknown>[]));
  printer.out(formatRecord(output));
}
