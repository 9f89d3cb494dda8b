import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  parsed: ParsedMail;
  raw: string;
}

/**
 * A real SMTP server on loopback for the email suites. `refuseWith(451)` makes it answer a
 * temporary (4xx) or permanent (5xx) error to every message until `accept()`.
 */
export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  private server: SMTPServer;
  private refusal: number | null = null;
  /** How many more messages to refuse before accepting again (Infinity: until accept()). */
  private refusalsLeft = 0;
  port = 0;
  /** How many messages were refused while refusing. */
  refused = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      // stop() must not wait 30 s for the idle connections of pooled mailers.
      closeTimeout: 200,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          if (this.refusal && this.refusalsLeft > 0) {
            this.refused++;
            this.refusalsLeft--;
            const err = new Error(
              this.refusal >= 500 ? 'Mailbox unavailable' : 'Try again later',
            ) as Error & {
              responseCode: number;
            };
            err.responseCode = this.refusal;
            return callback(err);
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          this.received.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            parsed: await simpleParser(raw),
            raw,
          });
          callback();
        });
      },
    });
    // A client that vanishes mid-conversation (the fault tests kill a sending process) is a
    // socket error on the server: expected, and not a reason to fail the test that caused it.
    this.server.on('error', () => undefined);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  /** Refuses the next `count` messages (all of them until accept() by default) with `code`. */
  refuseWith(code: number, count = Infinity): void {
    this.refusal = code;
    this.refusalsLeft = count;
  }

  accept(): void {
    this.refusal = null;
    this.refusalsLeft = 0;
  }

  /** Emails received by one address. */
  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.to.includes(address));
  }

  /** Waits until `predicate` holds, polling; fails with what was received after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out; received: ${this.received.map((m) => `${m.to.join(',')} «${m.parsed.subject}»`).join(' | ') || 'nothing'}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  clear(): void {
    this.received.length = 0;
    this.refused = 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
