/**
 * docker-compose.yml (with `docker compose config` when the client can run it offline, else a
 * YAML parse) and render.yaml: the services the hosting guide promises, and every file they
 * reference exists. Also `bash -n` on the deployment scripts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO, baseEnv, have, run, tmpDir, removeTmp } from './support';

type Obj = Record<string, unknown>;
const compose = parse(fs.readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Obj>; volumes: Record<string, unknown> };
const svc = compose.services;

function envOf(s: Obj): Record<string, string> {
  return (s.environment ?? {}) as Record<string, string>;
}
function mounts(s: Obj): { source: string; target: string }[] {
  return ((s.volumes ?? []) as string[]).map((v) => {
    const [source, target] = v.split(':');
    return { source, target };
  });
}

describe('docker-compose.yml', () => {
  const dockerCompose =
    have('docker') && run('docker', ['compose', 'version'], { timeout: 10000 }).status === 0;

  (dockerCompose ? test : test.skip)(
    `docker compose config accepts it${dockerCompose ? '' : ' (SKIPPED: the docker client has no compose plugin here; the YAML checks below run instead)'}`,
    () => {
      const dir = tmpDir('compose');
      try {
        fs.cpSync(path.join(REPO, 'docker-compose.yml'), path.join(dir, 'docker-compose.yml'));
        fs.cpSync(path.join(REPO, 'deployment'), path.join(dir, 'deployment'), { recursive: true });
        fs.copyFileSync(path.join(REPO, '.env.example'), path.join(dir, '.env'));
        fs.appendFileSync(path.join(dir, '.env'), '\nPOSTGRES_PASSWORD=x\n');
        const r = run('docker', ['compose', 'config', '--quiet'], { cwd: dir, env: baseEnv() });
        expect(r.out).toBe('');
        expect(r.status).toBe(0);
      } finally {
        removeTmp(dir);
      }
    },
  );

  test('has the db, app, nginx and backup services', () => {
    expect(Object.keys(svc)).toEqual(expect.arrayContaining(['db', 'app', 'nginx', 'backup']));
  });

  test('db: official PostgreSQL image, named volume, health check, not published', () => {
    expect(svc.db.image).toMatch(/^postgres:\d+/);
    expect(svc.db.ports).toBeUndefined();
    expect(svc.db.healthcheck).toBeDefined();
    const data = mounts(svc.db).find((m) => m.target === '/var/lib/postgresql/data');
    expect(data && data.source in compose.volumes).toBe(true);
  });

  test('app: built from the Dockerfile, waits for a healthy db, uploads on a named volume, .env', () => {
    const app = svc.app;
    expect(app.build).toBe('.');
    expect(fs.existsSync(path.join(REPO, 'Dockerfile'))).toBe(true);
    expect((app.depends_on as Obj).db).toEqual({ condition: 'service_healthy' });
    expect(app.env_file).toBe('.env');
    // .env is the user's copy of .env.example (deployment/README.md, step 3).
    expect(fs.existsSync(path.join(REPO, '.env.example'))).toBe(true);
    const env = envOf(app);
    expect(env.POSTGRES_HOST).toBe('db');
    expect(env.TRUST_PROXY).toBe('1');
    const uploads = mounts(app).find((m) => m.target === env.UPLOAD_DIR);
    expect(uploads && uploads.source in compose.volumes).toBe(true);
    // Scalable: no fixed container name, no host port.
    expect(app.container_name).toBeUndefined();
    expect(app.ports).toBeUndefined();
  });

  test('nginx: ports 80/443, deployment/nginx.conf, certificates and ACME webroot as volumes', () => {
    const n = svc.nginx;
    expect(n.ports).toEqual(['80:80', '443:443']);
    const m = mounts(n);
    const conf = m.find((x) => x.target === '/etc/nginx/conf.d/default.conf');
    expect(conf?.source).toBe('./deployment/nginx.conf');
    expect(m.find((x) => x.target === '/etc/letsencrypt')?.source).toBe('letsencrypt');
    expect(m.find((x) => x.target === '/var/www/certbot')?.source).toBe('certbot-www');
    const nginxConf = fs.readFileSync(path.join(REPO, 'deployment', 'nginx.conf'), 'utf8');
    expect(nginxConf).toMatch(new RegExp(`server app:${envOf(svc.app).PORT}\\b`));
  });

  test('backup: the db image (same pg_dump major), deployment/backup.sh daily into a volume', () => {
    const b = svc.backup;
    expect(b.image).toBe(svc.db.image);
    const m = mounts(b);
    const scripts = m.find((x) => x.source === './deployment');
    expect(scripts).toBeDefined();
    const entry = (b.entrypoint as string[])[0];
    expect(entry.startsWith(`${scripts!.target}/`)).toBe(true);
    const script = path.join(REPO, 'deployment', path.basename(entry));
    expect(fs.statSync(script).mode & 0o111).toBeTruthy();
    expect(fs.readFileSync(script, 'utf8')).toMatch(/backup\.sh/);
    const env = envOf(b);
    expect(m.find((x) => x.target === env.BACKUP_DIR && x.source in compose.volumes)).toBeDefined();
    expect(m.find((x) => x.target === env.UPLOAD_DIR)?.source).toBe(
      mounts(svc.app).find((x) => x.target === envOf(svc.app).UPLOAD_DIR)?.source,
    );
  });

  test('every bind-mounted file exists and every named volume is declared', () => {
    for (const [name, s] of Object.entries(svc)) {
      for (const { source } of mounts(s)) {
        if (source.startsWith('.') || source.startsWith('/')) {
          expect([name, source, fs.existsSync(path.join(REPO, source))]).toEqual([
            name,
            source,
            true,
          ]);
        } else {
          expect([name, source, source in compose.volumes]).toEqual([name, source, true]);
        }
      }
    }
  });
});

describe('render.yaml', () => {
  const render = parse(fs.readFileSync(path.join(REPO, 'render.yaml'), 'utf8')) as {
    services: (Obj & { envVars: Obj[] })[];
    databases: Obj[];
  };

  test('a Docker web service with /healthz, a managed PostgreSQL, and the settings it needs', () => {
    const web = render.services.find((s) => s.type === 'web')!;
    expect(web.runtime).toBe('docker');
    expect(fs.existsSync(path.join(REPO, String(web.dockerfilePath)))).toBe(true);
    expect(web.healthCheckPath).toBe('/healthz');
    const vars = Object.fromEntries(web.envVars.map((v) => [v.key, v]));
    expect((vars.DATABASE_URL.fromDatabase as Obj).name).toBe(render.databases[0].name);
    expect(vars.SECRET_KEY.generateValue).toBe(true);
    expect(vars.TRUST_PROXY.value).toBe('1');
    expect(vars.APP_URL).toBeDefined();
    expect(vars.NODE_ENV.value).toBe('production');
  });
});

describe('deployment scripts', () => {
  test.each(fs.readdirSync(path.join(REPO, 'deployment')).filter((f) => f.endsWith('.sh')))(
    'bash -n deployment/%s',
    (f) => {
      const r = run('bash', ['-n', path.join(REPO, 'deployment', f)]);
      expect(r.out).toBe('');
      expect(r.status).toBe(0);
    },
  );
});

describe('hosting guides', () => {
  const guides = ['README.md', 'GUIDE_HEBERGEMENT.md'].map((g) => ({
    name: g,
    text: fs.readFileSync(path.join(REPO, 'deployment', g), 'utf8'),
  }));
  const envVars = [
    ...new Set(
      [
        ...fs
          .readFileSync(path.join(REPO, '.env.example'), 'utf8')
          .matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm),
      ].map((m) => m[1]),
    ),
  ];

  test.each(guides)(
    '$name documents every .env.example variable and the backup ones',
    ({ text }) => {
      const vars = [...envVars, 'BACKUP_DIR', 'BACKUP_KEEP_DAYS', 'BACKUP_REMOTE', 'BACKUP_TIME'];
      expect(vars.filter((v) => !text.includes(`\`${v}\``))).toEqual([]);
    },
  );

  test('both guides give the same commands', () => {
    const blocks = (t: string) => [...t.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks(guides[1].text)).toEqual(blocks(guides[0].text));
    for (const cmd of [
      'docker compose up -d --build',
      'systemd-analyze verify',
      'deployment/restore.sh',
      'backup.sh',
      'certonly',
      'ufw',
    ]) {
      expect([cmd, guides[0].text.includes(cmd)]).toEqual([cmd, true]);
    }
  });
});
