/**
 * Runs a Dockerfile's instructions outside Docker, in order, the way the builder would: each
 * stage gets a directory standing for its root file system; FROM, ARG, ENV, WORKDIR, COPY
 * (with --from, and .dockerignore applied to the context), RUN (through `sh -c`, in WORKDIR),
 * USER, EXPOSE, HEALTHCHECK and CMD are understood; anything else is an error, so the
 * Dockerfile cannot grow a step this test would silently skip. The base image is the host:
 * its node and npm stand in for the image's (the test checks the major version it needs).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Instruction {
  line: number;
  op: string;
  args: string;
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let l = lines[i];
    if (/^\s*(#|$)/.test(l)) continue;
    while (/\\\s*$/.test(l) && i + 1 < lines.length) {
      l = l.replace(/\\\s*$/, ' ');
      i++;
      if (!/^\s*#/.test(lines[i])) l += lines[i];
    }
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(l);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot parse "${l}"`);
    out.push({ line: start, op: m[1].toUpperCase(), args: m[2].trim() });
  }
  return out;
}

/** .dockerignore → a predicate on context-relative paths (last matching rule wins). */
export function dockerignore(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pat = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
      let re = '';
      for (let i = 0; i < pat.length; i++) {
        const c = pat[i];
        if (c === '*' && pat[i + 1] === '*') {
          re += pat[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pat[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      // A rule on a directory excludes everything under it.
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (rel: string) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
    return ignored;
  };
}

/** Copies the build context (the repository minus .dockerignore) to `dest`. */
export function buildContext(repo: string, dest: string): void {
  const ignorePath = path.join(repo, '.dockerignore');
  const ignored = fs.existsSync(ignorePath)
    ? dockerignore(fs.readFileSync(ignorePath, 'utf8'))
    : () => false;
  fs.cpSync(repo, dest, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(repo, src).split(path.sep).join('/');
      return rel === '' || !ignored(rel);
    },
  });
}

/** Splits `a "b c" d` shell-style (instructions' flags and ENV pairs). */
function words(s: string): string[] {
  return (s.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []).map((w) =>
    w.replace(/^(\w+=)?(["'])(.*)\2$/, '$1$3'),
  );
}

function flags(args: string): { flags: Record<string, string>; rest: string } {
  const f: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([\w-]+)(?:=(\S+))?\s+/.exec(rest);
    if (!m) break;
    f[m[1]] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  return { flags: f, rest };
}

export interface Stage {
  name: string;
  image: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string;
}

export interface DockerfileResult {
  stages: Stage[];
  final: Stage;
  expose: string[];
  healthcheck: string[] | null;
  cmd: string[];
  log: string[];
}

export interface ExecuteOptions {
  dockerfile: string;
  context: string;
  workspace: string;
  /** The environment RUN commands start from (PATH, HOME, npm cache…). */
  baseEnv: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function executeDockerfile(o: ExecuteOptions): DockerfileResult {
  const instructions = parseDockerfile(fs.readFileSync(o.dockerfile, 'utf8'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const log: string[] = [];
  let cur: Stage | null = null;
  let expose: string[] = [];
  let healthcheck: string[] | null = null;
  let cmd: string[] = [];
  const subst = (s: string, env: Record<string, string>) =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string, b: string) => env[a ?? b] ?? '');
  const inRoot = (st: Stage, p: string) =>
    path.join(st.root, path.posix.isAbsolute(p) ? p : path.posix.join(st.workdir, p));
  const exec = (s: string) => {
    const j = JSON.parse(s) as unknown;
    if (!Array.isArray(j)) throw new Error(`expected the exec (JSON array) form: ${s}`);
    return j.map(String);
  };

  for (const ins of instructions) {
    const where = `Dockerfile line ${ins.line} (${ins.op})`;
    if (ins.op !== 'FROM' && ins.op !== 'ARG' && !cur) throw new Error(`${where}: before FROM`);
    switch (ins.op) {
      case 'ARG': {
        const [k, v] = ins.args.split('=');
        args[k] = cur ? (cur.env[k] ?? v ?? '') : (v ?? '');
        break;
      }
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
        if (!m) throw new Error(`${where}: cannot parse`);
        const image = subst(m[1], args);
        const name = m[2] ?? String(stages.length);
        const prev = stages.find((s) => s.name === image);
        const root = path.join(o.workspace, 'stages', name);
        if (prev) fs.cpSync(prev.root, root, { recursive: true });
        else fs.mkdirSync(root, { recursive: true });
        cur = { name, image, root, workdir: '/', env: { ...(prev?.env ?? {}) }, user: 'root' };
        stages.push(cur);
        log.push(`FROM ${image} AS ${name}`);
        break;
      }
      case 'WORKDIR':
        cur!.workdir = path.posix.resolve(cur!.workdir, subst(ins.args, cur!.env));
        fs.mkdirSync(inRoot(cur!, '.'), { recursive: true });
        break;
      case 'ENV':
        for (const w of words(ins.args)) {
          const i = w.indexOf('=');
          if (i < 0) throw new Error(`${where}: use ENV NAME=value`);
          cur!.env[w.slice(0, i)] = subst(w.slice(i + 1), cur!.env);
        }
        break;
      case 'COPY': {
        const { flags: f, rest } = flags(ins.args);
        const parts = words(rest);
        const dest = parts.pop()!;
        if (!parts.length) throw new Error(`${where}: COPY needs a source and a destination`);
        const from = f.from ? stages.find((s) => s.name === f.from) : null;
        if (f.from && !from) throw new Error(`${where}: unknown stage ${f.from}`);
        const destPath = inRoot(cur!, dest);
        const intoDir = dest.endsWith('/') || parts.length > 1;
        for (const src of parts) {
          const srcPath = from ? inRoot(from, src) : path.join(o.context, src);
          if (!fs.existsSync(srcPath)) {
            throw new Error(
              `${where}: ${src} is not in the ${from ? `stage ${from.name}` : 'context'}`,
            );
          }
          if (fs.statSync(srcPath).isDirectory()) {
            fs.cpSync(srcPath, destPath, { recursive: true });
          } else {
            const target = intoDir ? path.join(destPath, path.basename(src)) : destPath;
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.copyFileSync(srcPath, target);
          }
        }
        // --chown only sets ownership: the final check runs the server as that user instead.
        log.push(`COPY ${ins.args}`);
        break;
      }
      case 'RUN': {
        const { flags: f, rest } = flags(ins.args);
        // --mount=type=cache,target=/root/.npm: the host's own npm cache plays that role.
        if (f.mount && !/^type=cache,target=\/root\/\.npm$/.test(f.mount)) {
          throw new Error(`${where}: unsupported --mount=${f.mount}`);
        }
        log.push(`RUN ${rest}`);
        try {
          execFileSync('sh', ['-c', rest], {
            cwd: inRoot(cur!, '.'),
            env: { ...o.baseEnv, ...cur!.env },
            stdio: ['ignore', 'pipe', 'pipe'],
            timeout: o.timeoutMs ?? 150000,
            maxBuffer: 64 * 1024 * 1024,
          });
        } catch (e) {
          const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
          throw new Error(
            `${where}: \`${rest}\` failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`,
          );
        }
        break;
      }
      case 'USER':
        cur!.user = ins.args;
        break;
      case 'EXPOSE':
        expose = words(ins.args);
        break;
      case 'HEALTHCHECK': {
        const { rest } = flags(ins.args);
        const m = /^CMD\s+(\[.*\])$/.exec(rest);
        if (!m) throw new Error(`${where}: use HEALTHCHECK [options] CMD ["exec", "form"]`);
        healthcheck = exec(m[1]);
        break;
      }
      case 'CMD':
        cmd = exec(ins.args);
        break;
      case 'LABEL':
        break;
      default:
        throw new Error(`${where}: instruction not supported by test/deploy/dockerfile.ts`);
    }
  }
  if (!cur) throw new Error('no FROM in the Dockerfile');
  return { stages, final: cur, expose, healthcheck, cmd, log };
}
