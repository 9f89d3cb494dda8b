import pino, { type Logger } from 'pino';

export type { Logger };

/** The one logger: JSON in production, readable lines in development. */
export function createLogger(opts: { level: string; pretty: boolean }): Logger {
  return pino({
    level: opts.level,
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        'res.headers["set-cookie"]',
        '*.password',
        '*.token',
        '*.secretKey',
      ],
      censor: '[redacted]',
    },
    transport: opts.pretty
      ? { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } }
      : undefined,
  });
}

/** Whether pino-pretty can be loaded (it is a development dependency). */
export function prettyAvailable(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
