/**
 * `systemd-analyze verify` on the units of deployment/. verify checks that ExecStart programs
 * exist, so the copies it reads have /opt/guichet (the install path of the guide) pointed at
 * this checkout, and /usr/bin/node at this node when /usr/bin/node is absent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO, removeTmp, requireTools, run, tmpDir } from './support';

const UNITS = [
  'guichet.service',
  'guichet@.service',
  'guichet-backup.service',
  'guichet-backup.timer',
];
const read = (u: string) => fs.readFileSync(path.join(REPO, 'deployment', u), 'utf8');
const skip = requireTools(['systemd-analyze']);

describe('systemd units', () => {
  test('guichet.service: dedicated user, EnvironmentFile, restart on failure, sandboxed', () => {
    const u = read('guichet.service');
    expect(u).toMatch(/^User=guichet$/m);
    expect(u).toMatch(/^EnvironmentFile=\/etc\/guichet\/guichet\.env$/m);
    expect(u).toMatch(/^Restart=on-failure$/m);
    for (const d of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'PrivateTmp=yes',
      'ProtectHome=yes',
    ]) {
      expect(u).toContain(`\n${d}\n`);
    }
    // The data directory (uploads) is writable despite ProtectSystem=strict.
    const dataDir = /DATA_DIR=(\S+)/.exec(u)![1];
    expect(/UPLOAD_DIR=(\S+)/.exec(u)![1].startsWith(dataDir)).toBe(true);
    expect(u).toMatch(new RegExp(`^ReadWritePaths=.*${dataDir}`, 'm'));
    expect(u).toMatch(/^ExecStart=\/usr\/bin\/node dist\/src\/server\.js$/m);
  });

  test('guichet-backup.timer runs guichet-backup.service daily and catches up', () => {
    const t = read('guichet-backup.timer');
    expect(t).toMatch(/^OnCalendar=\*-\*-\* 03:00:00$/m);
    expect(t).toMatch(/^Persistent=true$/m);
    const s = read('guichet-backup.service');
    expect(s).toMatch(/^Type=oneshot$/m);
    expect(s).toMatch(/^ExecStart=\/opt\/guichet\/deployment\/backup\.sh$/m);
    const backupDir = /BACKUP_DIR=(\S+)/.exec(s)![1];
    expect(s).toMatch(new RegExp(`^ReadWritePaths=.*${backupDir}`, 'm'));
  });

  (skip ? test.skip : test)(
    `systemd-analyze verify accepts every unit${skip ? ` (${skip})` : ''}`,
    () => {
      const dir = tmpDir('systemd');
      try {
        const node = fs.existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
        for (const u of UNITS) {
          const text = read(u)
            .replace(/\/opt\/guichet\/deployment\//g, `${path.join(REPO, 'deployment')}/`)
            .replace(/\/usr\/bin\/node\b/g, node);
          fs.writeFileSync(path.join(dir, u), text);
        }
        const files = [...UNITS.filter((u) => u !== 'guichet@.service'), 'guichet@3001.service'];
        const r = run(
          'systemd-analyze',
          ['verify', '--man=no', ...files.map((u) => path.join(dir, u))],
          {
            cwd: dir,
          },
        );
        // Unknown keys are only warnings for systemd: refuse them too.
        expect(r.out.split('\n').filter((l) => /\.(service|timer)/.test(l))).toEqual([]);
        expect(r.status).toBe(0);
      } finally {
        removeTmp(dir);
      }
    },
  );
});
