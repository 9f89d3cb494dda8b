import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { expressServer } from '../../src/http/server';

describe('the HTTP server', () => {
  let server: http.Server;
  let base: string;
  const born: { request: object | null; response: object | null }[] = [];
  const app = express();
  app.get('/hello', (req, res) => {
    res
      .set('X-Seen', req.get('user-agent') ?? '')
      .status(201)
      .send(`hello ${req.query.name}`);
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
});
