/**
 * Nginx with the project's configurations (deployment/nginx-host.conf for the manual method,
 * deployment/nginx.conf for Docker Compose) in front of two Guichet processes on loopback.
 *
 * Each configuration is rendered the way deployment/README.md says, plus what a test on
 * one machine needs: the domain becomes guichet.test, Certbot's certificate paths point at a
 * throw-away self-signed pair, ports 80/443 become free loopback ports (IPv6 listens are
 * dropped: CI machines may lack IPv6), the upstream lists the two test processes, and the
 * ACME webroot and public/ paths point at this checkout. Nginx runs in the foreground with
 * `-p <tmp> -c <tmp>/nginx.conf`, with its pid, logs and temp files in the temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import {
  REPO,
  SECRET_KEY,
  createDatabase,
  httpGet,
  requireTools,
  run,
  sleep,
  startGuichet,
  removeTmp,
  tmpDir,
  type GuichetProcess,
  type HttpResponse,
  type ThrowAwayDb,
} from './support';
import { anyFreePort } from '../../src/ports';

const skip = requireTools(['nginx', 'openssl'], { pg: true });
const HOST = 'guichet.test';
const ADMIN_EMAIL = 'it-admin@guichet.test';
const ADMIN_PASSWORD = 'correct-horse-battery-staple';
/** MAX_UPLOAD_MB's default; client_max_body_size = MAX_UPLOAD_MB x 5 + 5 (deployment/README.md). */
const MAX_UPLOAD_MB = 10;

interface Rendered {
  conf: string;
  bodyLimitBytes: number;
}

/** Replaces `from` by `to`, failing when the committed file no longer contains it. */
function mustReplace(text: string, from: RegExp, to: string, what: string): string {
  if (!from.test(text)) throw new Error(`cannot render the config: ${what} not found (${from})`);
  return text.replace(from, to);
}

function render(
  source: string,
  p: { http: number; https: number; upstreams: number[]; dir: string },
): Rendered {
  let c = fs.readFileSync(path.join(REPO, source), 'utf8');
  // The guide's own sed for the host variant; the Compose variant uses `server_name _`.
  c = c.replace(/support\.example\.com/g, HOST);
  c = mustReplace(
    c,
    /\/etc\/letsencrypt\/live\/guichet\/fullchain\.pem/g,
    path.join(p.dir, 'cert.pem'),
    'ssl_certificate',
  );
  c = mustReplace(
    c,
    /\/etc\/letsencrypt\/live\/guichet\/privkey\.pem/g,
    path.join(p.dir, 'key.pem'),
    'ssl_certificate_key',
  );
  c = mustReplace(c, /\/var\/www\/certbot/g, path.join(p.dir, 'certbot'), 'ACME webroot');
  c = c.replace(/\/opt\/guichet\/public\//g, `${path.join(REPO, 'public')}/`);
  c = c.replace(/^\s*listen \[::\]:.*\n/gm, '');
  c = mustReplace(c, /listen 80\b/g, `listen 127.0.0.1:${p.http}`, 'listen 80');
  c = mustReplace(c, /listen 443\b/g, `listen 127.0.0.1:${p.https}`, 'listen 443');
  const up = /(upstream guichet \{)([\s\S]*?)(\n\})/.exec(c);
  if (!up) throw new Error('cannot render the config: no `upstream guichet` block');
  const first = /^\s*server\s+\S+\s*([^;]*);/m.exec(up[2]);
  if (!first) throw new Error('cannot render the config: no server in the upstream block');
  const params = first[1].trim();
  const servers = p.upstreams.map((port) => `    server 127.0.0.1:${port} ${params};`).join('\n');
  const body = up[2].replace(/^\s*#?\s*server\s+\S+[^;\n]*;[^\n]*$/gm, '').trimEnd();
  c = c.replace(up[0], `${up[1]}\n${servers}${body}${up[3]}`);
  const limit = /client_max_body_size\s+(\d+)([km]?);/i.exec(c);
  if (!limit) throw new Error('no client_max_body_size in the config');
  const unit = { '': 1, k: 1024, m: 1024 * 1024 }[limit[2].toLowerCase() as '' | 'k' | 'm'];
  return { conf: c, bodyLimitBytes: Number(limit[1]) * unit };
}

/** The main nginx.conf around the site file, as Debian's and the nginx image's are. */
function wrapper(dir: string, site: string): string {
  const t = (n: string) => path.join(dir, n);
  return `${process.getuid?.() === 0 ? 'user root root;\n' : ''}worker_processes 1;
pid ${t('nginx.pid')};
error_log ${t('error.log')} info;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log ${t('access.log')};
    client_body_temp_path ${t('body')};
    proxy_temp_path ${t('proxy')};
    fastcgi_temp_path ${t('fastcgi')};
    uwsgi_temp_path ${t('uwsgi')};
    scgi_temp_path ${t('scgi')};
    include ${site};
}
`;
}

interface Req {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

function cookieHeader(setCookie: string[] | undefined, jar: Map<string, string>): void {
  for (const c of setCookie ?? []) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i).trim(), pair.slice(i + 1));
  }
}

(skip ? describe.skip : describe)(
  `Nginx in front of two Guichet processes${skip ? ` (${skip})` : ''}`,
  () => {
    let dir: string;
    let db: ThrowAwayDb;
    let cert: string;
    let ports: { http: number; https: number; apps: number[] };
    const apps: (GuichetProcess | null)[] = [null, null];

    const appEnv = () => ({
      DATABASE_URL: db.url,
      NODE_ENV: 'production',
      SECRET_KEY,
      TRUST_PROXY: '1',
      APP_URL: `https://${HOST}:${ports.https}`,
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      MAX_UPLOAD_MB: String(MAX_UPLOAD_MB),
      EMAIL_ENABLED: 'false',
    });

    /** Starts whichever of the two processes is not running, at the same time. */
    async function ensureApps(): Promise<void> {
      await Promise.all(
        apps.map(async (a, i) => {
          if (a && a.child.exitCode === null && a.child.signalCode === null) return;
          const cwd = path.join(dir, `app${i}`);
          fs.mkdirSync(cwd, { recursive: true });
          apps[i] = await startGuichet({ port: ports.apps[i], env: appEnv(), cwd });
        }),
      );
    }

    function httpsRequest(r: Req): Promise<HttpResponse> {
      return new Promise((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: ports.https,
            servername: HOST,
            ca: cert,
            method: r.method ?? 'GET',
            path: r.path,
            agent: false,
            timeout: 10000,
            headers: { Host: `${HOST}:${ports.https}`, ...r.headers },
          },
          (res) => {
            let body = '';
            res.setEncoding('latin1');
            res.on('data', (c: string) => (body += c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
            );
          },
        );
        req.on('timeout', () => req.destroy(new Error(`timeout on ${r.path}`)));
        req.on('error', reject);
        req.end(r.body);
      });
    }

    /** Sends only the headers of a request announcing `length` bytes and reads the answer. */
    function announceBody(length: number, sendBytes: number): Promise<string> {
      return new Promise((resolve, reject) => {
        const sock = tls.connect({
          host: '127.0.0.1',
          port: ports.https,
          servername: HOST,
          ca: cert,
        });
        let data = '';
        sock.setEncoding('latin1');
        sock.setTimeout(10000, () => sock.destroy(new Error('timeout waiting for the answer')));
        sock.on('secureConnect', () => {
          sock.write(
            `POST /tickets/new HTTP/1.1\r\nHost: ${HOST}:${ports.https}\r\n` +
              `Content-Type: multipart/form-data; boundary=x\r\nContent-Length: ${length}\r\n` +
              `Connection: close\r\n\r\n`,
          );
          if (sendBytes) sock.write(Buffer.alloc(sendBytes, 'a'));
        });
        sock.on('data', (c: string) => {
          data += c;
          if (/\r\n\r\n/.test(data)) {
            sock.destroy();
            resolve(data);
          }
        });
        sock.on('error', (e) => (data ? resolve(data) : reject(e)));
        sock.on('close', () => resolve(data));
      });
    }

    beforeAll(async () => {
      expect(fs.existsSync(path.join(REPO, 'dist', 'src', 'server.js'))).toBe(true);
      dir = tmpDir('nginx');
      const gen = run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-subj',
        `/CN=${HOST}`,
        '-addext',
        `subjectAltName=DNS:${HOST}`,
      ]);
      expect(gen.status).toBe(0);
      cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
      fs.mkdirSync(path.join(dir, 'certbot', '.well-known', 'acme-challenge'), { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'certbot', '.well-known', 'acme-challenge', 'test-token'),
        'acme-proof\n',
      );
      ports = {
        http: await anyFreePort(),
        https: await anyFreePort(),
        apps: [await anyFreePort(), await anyFreePort()],
      };
      db = await createDatabase('nginx');
      // Both at once: migrations and the first admin are serialised by advisory locks.
      await ensureApps();
    });

    afterAll(async () => {
      if (dir) removeTmp(dir);
      await Promise.all(apps.map((a) => a?.stop('SIGTERM')));
      await db?.drop();
    });

    describe.each([
      { source: 'deployment/nginx-host.conf', stopWith: 'SIGTERM' as const },
      { source: 'deployment/nginx.conf', stopWith: 'SIGKILL' as const },
    ])('$source', ({ source, stopWith }) => {
      let nginx: ChildProcess | null = null;
      let rendered: Rendered;
      let confDir: string;

      beforeAll(async () => {
        await ensureApps();
        confDir = path.join(dir, path.basename(source, '.conf'));
        fs.mkdirSync(confDir);
        rendered = render(source, {
          http: ports.http,
          https: ports.https,
          upstreams: ports.apps,
          dir,
        });
        fs.writeFileSync(path.join(confDir, 'site.conf'), rendered.conf);
        fs.writeFileSync(
          path.join(confDir, 'nginx.conf'),
          wrapper(confDir, path.join(confDir, 'site.conf')),
        );
        const args = ['-p', confDir, '-c', path.join(confDir, 'nginx.conf')];
        const check = run('nginx', [...args, '-t']);
        if (check.status !== 0) throw new Error(`nginx -t failed:\n${check.out}`);
        nginx = spawn('nginx', [...args, '-g', 'daemon off;'], { stdio: 'ignore' });
        const deadline = Date.now() + 10000;
        for (;;) {
          try {
            await httpGet(`http://127.0.0.1:${ports.http}/`, 500);
            break;
          } catch {
            if (Date.now() > deadline || nginx.exitCode !== null) {
              const log = fs.readFileSync(path.join(confDir, 'error.log'), 'utf8');
              throw new Error(`nginx did not start:\n${log}`);
            }
            await sleep(100);
          }
        }
      });

      afterAll(async () => {
        if (nginx && nginx.exitCode === null) {
          const gone = new Promise((r) => nginx!.once('exit', r));
          nginx.kill('SIGQUIT');
          await Promise.race([gone, new Promise((r) => setTimeout(r, 5000).unref())]);
          if (nginx.exitCode === null) nginx.kill('SIGKILL');
        }
      });

      test('plain HTTP redirects to HTTPS, except the ACME challenge', async () => {
        const r = await httpGet(`http://127.0.0.1:${ports.http}/login?returnTo=%2Ftickets`, 3000, {
          Host: HOST,
        });
        expect(r.status).toBe(301);
        expect(r.headers.location).toBe(`https://${HOST}/login?returnTo=%2Ftickets`);
        const acme = await httpGet(
          `http://127.0.0.1:${ports.http}/.well-known/acme-challenge/test-token`,
        );
        expect(acme.status).toBe(200);
        expect(acme.body).toBe('acme-proof\n');
      });

      test('a page is served over HTTPS, by Guichet, with its security headers', async () => {
        const r = await httpsRequest({ path: '/login' });
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toMatch(/text\/html/);
        expect(r.body).toMatch(/name="_csrf"/);
        expect(r.headers['x-request-id']).toBeTruthy();
        expect(r.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      });

      test('a static file has a long Cache-Control and is gzipped', async () => {
        const r = await httpsRequest({
          path: '/static/css/app.css',
          headers: { 'Accept-Encoding': 'gzip' },
        });
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toMatch(/text\/css/);
        const maxAge = Number(/max-age=(\d+)/.exec(String(r.headers['cache-control']))?.[1]);
        expect(maxAge).toBeGreaterThanOrEqual(7 * 24 * 3600);
        expect(r.headers['content-encoding']).toBe('gzip');
      });

      test('a login over HTTPS sets a Secure, HttpOnly session cookie (TRUST_PROXY)', async () => {
        const jar = new Map<string, string>();
        const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
        const form = await httpsRequest({ path: '/login' });
        cookieHeader(form.headers['set-cookie'], jar);
        const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
        expect(csrf).toBeTruthy();
        const body = new URLSearchParams({
          email: ADMIN_EMAIL,
          password: ADMIN_PASSWORD,
          _csrf: csrf!,
          returnTo: '/account',
        }).toString();
        const login = await httpsRequest({
          method: 'POST',
          path: '/login',
          body,
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': String(Buffer.byteLength(body)),
            Origin: `https://${HOST}:${ports.https}`,
            Cookie: cookie(),
          },
        });
        expect(login.status).toBe(302);
        expect(login.headers.location).toBe('/account');
        const sid = (login.headers['set-cookie'] ?? []).find((c) => c.startsWith('guichet.sid='));
        expect(sid).toBeDefined();
        expect(sid).toMatch(/;\s*Secure/i);
        expect(sid).toMatch(/;\s*HttpOnly/i);
        expect(sid).toMatch(/;\s*SameSite=Lax/i);
        cookieHeader(login.headers['set-cookie'], jar);
        const account = await httpsRequest({ path: '/account', headers: { Cookie: cookie() } });
        expect(account.status).toBe(200);
        expect(account.body).toContain(ADMIN_EMAIL);

        // Control: the same app over plain HTTP, without the proxy, does not mark it Secure.
        const direct = await httpGet(`http://127.0.0.1:${ports.apps[0]}/login`);
        const plain = ([] as string[])
          .concat(direct.headers['set-cookie'] ?? [])
          .find((c) => c.startsWith('guichet.sid='));
        expect(plain).toBeDefined();
        expect(plain).not.toMatch(/;\s*Secure/i);
      });

      test('client_max_body_size follows MAX_UPLOAD_MB x 5 + 5 MB; a larger upload gets 413', async () => {
        expect(rendered.bodyLimitBytes).toBe((MAX_UPLOAD_MB * 5 + 5) * 1024 * 1024);
        const tooBig = await announceBody(rendered.bodyLimitBytes + 1, 64 * 1024);
        expect(tooBig).toMatch(/^HTTP\/1\.1 413 /);
        expect(tooBig).toMatch(/Server: nginx/i);
        // Just under the limit, Nginx lets it through to Guichet (which refuses it itself).
        const small = await announceBody(256 * 1024, 256 * 1024);
        expect(small).toMatch(/^HTTP\/1\.1 (\d+) /);
        expect(small).not.toMatch(/^HTTP\/1\.1 413 /);
        expect(small).toMatch(/X-Request-Id:/i);
      });

      test(`stopping one process (${stopWith}) loses no request`, async () => {
        const victim = apps[0]!;
        const statuses: number[] = [];
        const errors: string[] = [];
        let stopped: Promise<number | null> | null = null;
        for (let i = 0; i < 60; i++) {
          if (i === 10) stopped = victim.stop(stopWith);
          try {
            const r = await httpsRequest({ path: '/login' });
            statuses.push(r.status);
          } catch (e) {
            errors.push(`#${i}: ${(e as Error).message}`);
          }
          if (i === 10) await sleep(50);
        }
        await stopped;
        expect(victim.child.exitCode !== null || victim.child.signalCode !== null).toBe(true);
        expect(errors).toEqual([]);
        expect(statuses.filter((s) => s !== 200)).toEqual([]);
        expect(statuses).toHaveLength(60);
        // The other process still serves, alone.
        const after = await httpsRequest({ path: '/healthz' });
        expect(after.status).toBe(200);
      });
    });
  },
);
