import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A throw-away PostgreSQL cluster on 127.0.0.1 with scram-sha-256 auth (the machine's own trusts everyone). */
export interface PgCluster {
  port: number;
  superPassword: string;
  /** Runs SQL as the superuser. */
  sql(text: string): Promise<pg.QueryResult>;
  /** Turns TLS on with a fresh self-signed certificate for 127.0.0.1/localhost; returns its PEM. */
  enableTls(): Promise<string>;
  stop(): Promise<void>;
}

async function binDir(): Promise<string> {
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    if (existsSync(join(stdout.trim(), 'initdb'))) return stdout.trim();
  } catch {
    // fall through to the Debian layout
  }
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(join(d, 'initdb')));
  if (!found) throw new Error('initdb not found (pg_config --bindir, /usr/lib/postgresql/*/bin)');
  return found;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Starts the cluster. initdb refuses to run as root, so as root every command runs as the
 * `postgres` OS user (runuser) in a temporary directory that user owns.
 */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = await binDir();
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await run('id', ['-u', 'postgres']).then(async (u) => ({ uid: Number(u.stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) })) : { uid: userInfo().uid, gid: userInfo().gid };
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-pg-'));
  const own = (path: string) => asRoot && chownSync(path, owner.uid, owner.gid);
  own(dir);
  const as = (file: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args], { cwd: dir }) : run(file, args, { cwd: dir }));

  const superPassword = `super-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
  own(pwfile);
  const data = join(dir, 'data');
  const port = await freePort();
  try {
    await as(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '--encoding=UTF8', '--locale=C']);
    await as(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const sql = async (text: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: superPassword, database: 'postgres' });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  };

  return {
    port,
    superPassword,
    sql,
    async enableTls() {
      const key = join(dir, 'server.key');
      const crt = join(dir, 'server.crt');
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=latchkey-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
      chmodSync(key, 0o600);
      own(key);
      own(crt);
      await sql(`ALTER SYSTEM SET ssl_cert_file = '${crt}'`);
      await sql(`ALTER SYSTEM SET ssl_key_file = '${key}'`);
      await sql('ALTER SYSTEM SET ssl = on');
      await sql('SELECT pg_reload_conf()');
      // The reload is asynchronous: wait until new sessions see it.
      for (let i = 0; i < 50 && (await sql('SHOW ssl')).rows[0]?.ssl !== 'on'; i++) await new Promise((r) => setTimeout(r, 100));
      return readFileSync(crt, 'utf8');
    },
    async stop() {
      await as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The cluster, or null with a loud notice when it cannot start; under CI=true a failure is
 * an error, never a silent skip.
 */
export async function startPgClusterOrSkip(): Promise<PgCluster | null> {
  try {
    return await startPgCluster();
  } catch (error) {
    const message = `could not start a throw-away PostgreSQL cluster: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(message);
    console.warn(`\n!!! ${message}\n!!! PostgreSQL tester tests are SKIPPED (set CI=true to make this an error)\n`);
    return null;
  }
}
