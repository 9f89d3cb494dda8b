import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, type Agent } from '../support/agent';
import { createUser } from '../support/factories';
import { listRoutes } from '../support/routes';

let ctx: TestContext;
const agents: Record<string, Agent> = {};
let paramIds: Record<string, number>;

beforeAll(async () => {
  ctx = await createTestContext();
  agents.anonymous = newAgent(ctx.app);
  for (const role of ['employee', 'technician', 'admin'] as const) {
    const user = await createUser(ctx.db, { role });
    agents[role] = newAgent(ctx.app);
    await loginAs(agents[role], user);
  }
  const someone = await createUser(ctx.db);
  paramIds = { id: someone.id };
});
afterAll(() => ctx.close());

function concrete(path: string): string {
  return path.replace(/:(\w+)/g, (_, name: string) => String(paramIds[name] ?? 1));
}

describe('smoke: every GET route', () => {
  test('when routes are listed, then the known pages are among them', () => {
    const paths = listRoutes(ctx.app).map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining(['GET /login', 'GET /account', 'GET /admin/users', 'GET /healthz']),
    );
  });

  test.each(['anonymous', 'employee', 'technician', 'admin'])(
    'when %s opens every GET route, then none answers 500 or more',
    async (who) => {
      const gets = listRoutes(ctx.app).filter((r) => r.method === 'GET');
      const failures: string[] = [];
      for (const route of gets) {
        const url = concrete(route.path);
        const res = await agents[who].get(url);
        if (res.status >= 500) failures.push(`${url} → ${res.status}`);
      }
      expect(failures).toEqual([]);
    },
  );
});

describe('pages as bytes', () => {
  test('when a page in French is sent, then it is HTML in UTF-8 and its length counts bytes', async () => {
    const res = await agents.technician.get('/tickets');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('Priorité');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text, 'utf8'));
    const head = await agents.technician.head('/tickets');
    expect(head.headers['content-type']).toBe('text/html; charset=utf-8');
  });
});
