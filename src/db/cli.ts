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
