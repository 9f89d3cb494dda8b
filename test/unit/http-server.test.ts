import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressServer, type AppServer } from '../../src/http/server';

describe('the HTTP server', () => {
  let server: AppServer;
  let base: string;
  const born: { request: object | null; response: object | null }[] = [];
  const app = express();
  app.get('/hello', (req, res) => {
    res
      .set('X-Seen', req.get('user-agent') ?? '')
      .status(201)
      .send(`hello ${req.query.name}`);
  });
  // Answers once the test lets it: a handler still working after its client has gone.
  let finishSlow: () => void = () => undefined;
  const slowStarted: (() => void)[] = [];
  app.get('/slow', async (_req, res) => {
    await new Promise<void>((resolve) => {
      finishSlow = resolve;
      for (const started of slowStarted.splice(0)) started();
    });
    res.send('done');
  });
  app.post('/echo', express.urlencoded({ extended: false }), (req, res) => {
    res.json(req.body);
  });

  beforeAll(async () => {
    server = expressServer(app);
    // Runs before Express: the objects as the server made them.
    server.prependListener('request', (req, res) => {
      born.push({ request: Object.getPrototypeOf(req), response: Object.getPrototypeOf(res) });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("makes requests and responses with the app's prototypes, which Express then leaves as they are", async () => {
    const res = await fetch(`${base}/hello?name=Camille`, { headers: { 'user-agent': 'test' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-seen')).toBe('test');
    expect(await res.text()).toBe('hello Camille');
    expect(born.at(-1)).toEqual({ request: app.request, response: app.response });
  });

  it('reads bodies and answers as a plain Node server does, keep-alive included', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `n=${i}&text=${encodeURIComponent('é & ü')}`,
      });
      expect(await res.json()).toEqual({ n: String(i), text: 'é & ü' });
    }
    const head = await fetch(`${base}/hello?name=x`, { method: 'HEAD' });
    expect(head.status).toBe(201);
    expect(await head.text()).toBe('');
  });

  it('knows when every request received has been answered, one whose client left included', async () => {
    // Nothing in progress: at once, not at the deadline.
    const idleFrom = Date.now();
    await server.handled(Date.now() + 5000);
    expect(Date.now() - idleFrom).toBeLessThan(1000);
    const started = new Promise<void>((resolve) => slowStarted.push(resolve));
    const client = new AbortController();
    const sent = fetch(`${base}/slow`, { signal: client.signal }).catch(() => 'aborted');
    await started;
    client.abort();
    expect(await sent).toBe('aborted');

    let handled = false;
    const waiting = server.handled(Date.now() + 5000).then(() => (handled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(handled).toBe(false);
    finishSlow();
    await waiting;
    expect(handled).toBe(true);
  });

  it('stops waiting for a request that is never answered at the deadline', async () => {
    const started = new Promise<void>((resolve) => slowStarted.push(resolve));
    const client = new AbortController();
    const sent = fetch(`${base}/slow`, { signal: client.signal }).catch(() => 'aborted');
    await started;
    client.abort();
    await sent;
    const from = Date.now();
    await server.handled(Date.now() + 200);
    expect(Date.now() - from).toBeGreaterThanOrEqual(150);
    finishSlow();
    await server.handled(Date.now() + 5000);
  });
});
