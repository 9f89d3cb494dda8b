// Compiles TypeScript to dist/ when a source is newer than the last build, so that
// `npm start` works on a fresh clone and stays fast afterwards.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const sources = [
  'src',
  'migrations',
  'seeds',
  'knexfile.ts',
  'tsconfig.json',
  'tsconfig.build.json',
];

function newest(p) {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return fs.readdirSync(p).reduce((m, f) => Math.max(m, newest(path.join(p, f))), st.mtimeMs);
}

const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
const hasSources = fs.existsSync(path.join(root, 'src'));
if (hasSources && sources.reduce((m, s) => Math.max(m, newest(path.join(root, s))), 0) > built) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    console.error('TypeScript is not installed: run `npm install` (with dev dependencies) first.');
    process.exit(1);
  }
  console.log('Compiling Guichet…');
  // Compile beside dist/ and swap: a Guichet running from dist/ never sees it half-built, and
  // files of deleted sources (an old migration) do not linger.
  const next = path.join(root, 'dist.next');
  const old = path.join(root, 'dist.old');
  fs.rmSync(next, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', next],
    { stdio: 'inherit', cwd: root },
  );
  fs.writeFileSync(path.join(next, '.build-stamp'), new Date().toISOString());
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(path.join(root, 'dist'))) fs.renameSync(path.join(root, 'dist'), old);
  fs.renameSync(next, path.join(root, 'dist'));
  fs.rmSync(old, { recursive: true, force: true });
}
