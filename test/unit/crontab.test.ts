import { parseCrontab } from 'graphile-worker';
import pino from 'pino';
import { CRONTAB, taskList } from '../../src/jobs/worker';

describe('scheduled jobs', () => {
  test('when the crontab is parsed, then every scheduled task exists in the task list', () => {
    const scheduled = parseCrontab(CRONTAB).map((c) => c.task);
    expect(scheduled.sort()).toEqual(['auto_close_tickets', 'housekeeping', 'mail_sweeper']);
    const tasks = taskList({
      db: {} as never,
      logger: pino({ level: 'silent' }),
      clock: () => new Date(),
      autoCloseDays: 7,
      mailer: {} as never,
      outbox: {} as never,
    });
    for (const name of scheduled) expect(typeof tasks[name]).toBe('function');
  });
});
