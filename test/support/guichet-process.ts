import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SERVER_JS = path.resolve(__dirname, '..', '..', 'dist', 'src', 'server.js');
/** The tail of the output kept in memory for error messages. */
const KEPT_OUTPUT = 20000;

export interface GuichetProcess {
  port: number;
  /** http://127.0.0.1:PORT */
  base: string;
  child: ChildProcess;
  /** The last lines the process printed. */
  logs(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the built server (`node dist/src/server.js`, or `entry`) with a minimal environment
 * (nothing of the caller's Guichet variables leaks in) and waits until /readyz answers 200.
 * Used by the deployment, load and benchmark runs. With `logFile`, all output also goes there.
 */
export async function startGuichet(opts: {
  port: number;
  env: Record<string, string | undefined>;
  cwd?: string;
  entry?: string;
  uid?: number;
  gid?: number;
  readyTimeoutMs?: number;
  logFile?: string;
}): Promise<GuichetProcess> {
  const cwd = opts.cwd ?? fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-app-'));
  const base = `http://127.0.0.1:${opts.port}`;
  let output = '';
  const child = spawn(process.execPath, [opts.entry ?? SERVER_JS], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      LANG: 'C.UTF-8',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...opts.env,
      PORT: String(opts.port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: opts.uid,
    gid: opts.gid,
  });
  const file = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : null;
  const onData = (b: Buffer) => {
    output = (output + b.toString()).slice(-KEPT_OUTPUT);
    file?.write(b);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      file?.end();
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30000);
  for (;;) {
    if (done) throw new Error(`Guichet on port ${opts.port} exited while starting:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Guichet on port ${opts.port} not ready in time:\n${output}`);
    }
    const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status === 200,
      () => false, // not listening yet
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port: opts.port,
    base,
    child,
    logs: () => output,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (!done) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
