/**
 * deployment/backup.sh and deployment/restore.sh against the real PostgreSQL: a migrated
 * database with rows plus an uploads directory, backed up, restored into an empty database
 * and a fresh directory, compared table by table and file by file; retention; refusals.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  REPO,
  SECRET_KEY,
  baseEnv,
  checksums,
  createDatabase,
  requireTools,
  run,
  removeTmp,
  tmpDir,
  withAdmin,
  type ThrowAwayDb,
} from './support';

const skip = requireTools(['pg_dump', 'pg_restore', 'psql', 'tar', 'gzip'], { pg: true });
const BACKUP = path.join(REPO, 'deployment', 'backup.sh');
const RESTORE = path.join(REPO, 'deployment', 'restore.sh');

/** Row count of every table of the public schema. */
async function rowCounts(url: string): Promise<Record<string, number>> {
  return withAdmin(async (c) => {
    const tables = await c.query<{ t: string }>(
      "select tablename as t from pg_tables where schemaname = 'public' order by 1",
    );
    const out: Record<string, number> = {};
    for (const { t } of tables.rows) {
      out[t] = Number((await c.query(`select count(*) as n from "${t}"`)).rows[0].n);
    }
    return out;
  }, url);
}

function listBackups(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

(skip ? describe.skip : describe)(`backup.sh and restore.sh${skip ? ` (${skip})` : ''}`, () => {
  let dir: string;
  let source: ThrowAwayDb;
  let target: ThrowAwayDb;
  let uploads: string;
  let backups: string;
  let remote: string;

  beforeAll(async () => {
    expect(fs.existsSync(path.join(REPO, 'dist', 'src', 'db', 'migrate-cli.js'))).toBe(true);
    dir = tmpDir('backup');
    source = await createDatabase('src');
    target = await createDatabase('dst');
    // The app's own migrations, as `npm run migrate` runs them.
    const migrate = run(
      process.execPath,
      [path.join(REPO, 'dist', 'src', 'db', 'migrate-cli.js')],
      {
        cwd: dir,
        env: baseEnv({ DATABASE_URL: source.url, NODE_ENV: 'production', SECRET_KEY }),
      },
    );
    if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.out}`);
    await withAdmin(async (c) => {
      for (let i = 0; i < 25; i++) {
        await c.query(
          'insert into users (email, name, role, password_hash) values ($1, $2, $3, $4)',
          [
            `user${i}@example.com`,
            `Utilisateur n°${i} « été »`,
            i % 5 ? 'employee' : 'technician',
            'x',
          ],
        );
      }
      for (let i = 0; i < 4; i++) {
        await c.query('insert into categories (name, position) values ($1, $2)', [
          `Catégorie ${i}`,
          i,
        ]);
      }
    }, source.url);
    uploads = path.join(dir, 'uploads');
    fs.mkdirSync(path.join(uploads, '2026', '11'), { recursive: true });
    fs.writeFileSync(path.join(uploads, '2026', '11', 'a1b2c3.bin'), Buffer.alloc(300_000, 7));
    fs.writeFileSync(path.join(uploads, '2026', '11', 'capture écran.png'), 'not really a png');
    fs.writeFileSync(path.join(uploads, 'empty'), '');
    backups = path.join(dir, 'backups');
    remote = path.join(dir, 'remote');
    fs.mkdirSync(backups);
    // Old backups (past the 14-day retention), a recent one and a foreign file.
    const old = ['guichet-db-20000101-000000.dump', 'guichet-uploads-20000101-000000.tar.gz'];
    for (const f of old) fs.writeFileSync(path.join(backups, f), 'old');
    fs.writeFileSync(path.join(backups, 'guichet-db-20000102-000000.dump'), 'recent');
    fs.writeFileSync(path.join(backups, 'notes.txt'), 'not a backup');
    const touch = (days: number, f: string) =>
      expect(run('touch', ['-d', `${days} days ago`, path.join(backups, f)]).status).toBe(0);
    for (const f of old) touch(20, f);
    touch(1, 'guichet-db-20000102-000000.dump');
    touch(100, 'notes.txt');
  });

  afterAll(async () => {
    if (dir) removeTmp(dir);
    await source?.drop();
    await target?.drop();
  });

  test('backup.sh writes a checked dump and uploads archive, applies retention, copies away', () => {
    const r = run('bash', [BACKUP], {
      cwd: dir,
      env: baseEnv({
        DATABASE_URL: source.url,
        UPLOAD_DIR: uploads,
        BACKUP_DIR: backups,
        BACKUP_KEEP_DAYS: '14',
        BACKUP_REMOTE: remote,
      }),
    });
    if (r.status !== 0) throw new Error(`backup.sh failed:\n${r.out}`);
    const files = listBackups(backups);
    const dumps = files.filter((f) => /^guichet-db-\d{8}-\d{6}\.dump$/.test(f));
    const archives = files.filter((f) => /^guichet-uploads-\d{8}-\d{6}\.tar\.gz$/.test(f));
    // Deleted: the two 20-day-old backups. Kept: the 1-day-old one and the foreign file.
    expect(files).not.toContain('guichet-db-20000101-000000.dump');
    expect(files).not.toContain('guichet-uploads-20000101-000000.tar.gz');
    expect(files).toContain('guichet-db-20000102-000000.dump');
    expect(files).toContain('notes.txt');
    expect(dumps).toHaveLength(2);
    expect(archives).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(r.out).toMatch(/deleted \(older than 14 days\).*guichet-db-20000101-000000\.dump/);
    // The copy away holds exactly the new pair, byte for byte.
    const stamp = archives[0].replace(/^guichet-uploads-|\.tar\.gz$/g, '');
    expect(listBackups(remote)).toEqual([`guichet-db-${stamp}.dump`, archives[0]].sort());
    expect(checksums(remote)[`guichet-db-${stamp}.dump`]).toBe(
      checksums(backups)[`guichet-db-${stamp}.dump`],
    );
  });

  test('restore.sh into an empty database and uploads dir gives the same rows and files', async () => {
    const dump = listBackups(remote).find((f) => f.endsWith('.dump'))!;
    const restored = path.join(dir, 'restored-uploads');
    // Configuration through --env-file, as on a host install (/etc/guichet/guichet.env).
    const envFile = path.join(dir, 'guichet.env');
    fs.writeFileSync(
      envFile,
      `# as in .env\nDATABASE_URL="${target.url}"\nUPLOAD_DIR=${restored}  # comment\n`,
    );
    const r = run('bash', [RESTORE, '--env-file', envFile, path.join(remote, dump)], {
      cwd: dir,
      env: baseEnv(),
    });
    if (r.status !== 0) throw new Error(`restore.sh failed:\n${r.out}`);
    const before = await rowCounts(source.url);
    expect(before.users).toBe(25);
    expect(before.categories).toBe(4);
    expect(before.knex_migrations).toBeGreaterThan(0);
    expect(await rowCounts(target.url)).toEqual(before);
    expect(checksums(restored)).toEqual(checksums(uploads));
    expect(Object.keys(checksums(restored))).toHaveLength(3);
    const names = await withAdmin(
      (c) => c.query<{ name: string }>('select name from users order by id limit 1'),
      target.url,
    );
    expect(names.rows[0].name).toBe('Utilisateur n°0 « été »');
  });

  test('restore.sh refuses a non-empty database without --force, and replaces it with it', async () => {
    const dump = listBackups(remote).find((f) => f.endsWith('.dump'))!;
    const archive = listBackups(remote).find((f) => f.endsWith('.tar.gz'))!;
    const fresh = path.join(dir, 'fresh-uploads');
    await withAdmin(
      (c) => c.query("delete from categories where name = 'Catégorie 0'"),
      target.url,
    );
    const env = baseEnv({ DATABASE_URL: target.url, UPLOAD_DIR: fresh });
    const args = [path.join(remote, dump), path.join(remote, archive)];
    const refused = run('bash', [RESTORE, ...args], { cwd: dir, env });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/is not empty .* pass --force/);
    expect((await rowCounts(target.url)).categories).toBe(3);
    expect(fs.existsSync(fresh)).toBe(false);

    const forced = run('bash', [RESTORE, '--force', ...args], { cwd: dir, env });
    if (forced.status !== 0) throw new Error(`restore.sh --force failed:\n${forced.out}`);
    expect(await rowCounts(target.url)).toEqual(await rowCounts(source.url));
    expect(checksums(fresh)).toEqual(checksums(uploads));
  });

  test('backup.sh against an unreachable database exits non-zero with a clear message', () => {
    const out = path.join(dir, 'unreachable');
    const r = run('bash', [BACKUP], {
      cwd: dir,
      env: baseEnv({
        DATABASE_URL: 'postgres://guichet:s3cret@127.0.0.1:1/guichet',
        UPLOAD_DIR: uploads,
        BACKUP_DIR: out,
      }),
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /backup\.sh: ERROR: pg_dump failed for postgres:\/\/guichet:\*\*\*@127\.0\.0\.1:1\/guichet/,
    );
    expect(r.stderr).toMatch(/reachable/);
    expect(r.out).not.toContain('s3cret');
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test('backup.sh without any database configured says what to set', () => {
    const r = run('bash', [BACKUP], {
      cwd: dir,
      env: baseEnv({ BACKUP_DIR: path.join(dir, 'x') }),
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no database configured: set DATABASE_URL/);
  });
});
