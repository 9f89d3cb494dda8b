import type { Config } from '../config';
import type { Logger } from '../logger';
import { openDatabase, type Database } from './database';

/**
 * Opens the database for a command-line tool; Ctrl-C or SIGTERM closes it (and stops an
 * embedded server this tool started) before exiting.
 */
export async function openForCli(config: Config, logger: Logger): Promise<Database> {
  let database: Database | null = null;
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal} received, stopping\n`);
    void (database?.close() ?? Promise.resolve()).finally(() => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  database = await openDatabase(config, logger);
  return database;
}

/** Runs a command-line entry point: its result is the exit code, a failure one clear line. */
export function runCli(main: () => Promise<number>, failure: string): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${failure}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
