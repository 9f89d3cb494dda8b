/**
 * Virtual users for the load test: each one logs in once, then browses, files tickets and
 * replies, with a pause between actions, until told to stop. Every answer is recorded with
 * when the request started and ended; every write the server acknowledged (a redirect to the
 * ticket) is kept to be looked for in the database afterwards.
 */
export interface Session {
  email: string;
  role: 'employee' | 'technician';
  cookie: string;
  csrf: string;
}

export interface Answer {
  kind: string;
  method: 'GET' | 'POST';
  /** The app process that answered (its base URL). */
  base: string;
  startedAt: number;
  endedAt: number;
  /** 0: no HTTP answer at all (refused, reset, timed out). */
  status: number;
  /** A 503 that is a proper HTML error page, as the error handler renders it. */
  cleanUnavailable: boolean;
  error?: string;
  /** The page's message, for an answer that was not expected. */
  excerpt?: string;
}

export interface AckedCreate {
  id: number;
  title: string;
}

export interface AckedReply {
  ticketId: number;
  body: string;
  /** The version the reply was sent with. */
  version: number;
}

export interface Traffic {
  answers: Answer[];
  creates: AckedCreate[];
  replies: AckedReply[];
  /** 409 answers to a reply: someone else changed the ticket first (refused, text kept). */
  conflicts: number;
}

const FORM = 'application/x-www-form-urlencoded';

/** fetch() says "fetch failed"; the reason (ECONNRESET, a timeout…) is in its cause. */
function describe(err: unknown): string {
  const e = err as {
    message?: string;
    cause?: { code?: string; message?: string; socket?: { bytesRead?: number } };
  };
  const read = e?.cause?.socket?.bytesRead;
  return [
    e?.message ?? String(err),
    e?.cause?.code ?? e?.cause?.message,
    read === undefined ? '' : `${read} bytes read on that connection`,
  ]
    .filter(Boolean)
    .join(': ');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sessionCookie(res: Response): string | null {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('guichet.sid='));
  return set ? set.split(';')[0] : null;
}

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? null;
const versionIn = (html: string) => Number(/name="version" value="(\d+)"/.exec(html)?.[1] ?? NaN);

/** Logs in through the form, as a browser does. */
export async function login(
  base: string,
  origin: string,
  email: string,
  password: string,
  role: Session['role'],
): Promise<Session> {
  const page = await fetch(`${base}/login`, { redirect: 'manual' });
  const anonymous = sessionCookie(page);
  const token = csrfIn(await page.text());
  if (!anonymous || !token) throw new Error('the login page has no session or token');
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: anonymous, origin, 'content-type': FORM },
    body: new URLSearchParams({ _csrf: token, email, password }),
  });
  const cookie = sessionCookie(res);
  if (res.status !== 302 || !cookie) throw new Error(`login as ${email}: ${res.status}`);
  const form = await fetch(`${base}/tickets/new`, { headers: { cookie }, redirect: 'manual' });
  const csrf = csrfIn(await form.text());
  if (!csrf) throw new Error(`no form token for ${email}`);
  return { email, role, cookie, csrf };
}

export interface TrafficOptions {
  /** App processes; each request goes to the next one in turn. */
  bases: string[];
  origin: string;
  sessions: Session[];
  /** Tickets every technician works on at once, to provoke concurrent replies. */
  hotTickets: number[];
  categoryIds: number[];
  /** Unique per run, so each acknowledged write can be found again. */
  tag: string;
  thinkMs: [number, number];
}

/** Runs the virtual users until `stop()`; resolves with everything that was answered. */
export function startTraffic(opts: TrafficOptions): { stop(): Promise<Traffic> } {
  const traffic: Traffic = { answers: [], creates: [], replies: [], conflicts: 0 };
  let running = true;
  let turn = 0;
  let seq = 0;

  async function request(
    s: Session,
    kind: string,
    method: 'GET' | 'POST',
    path: string,
    body?: Record<string, string>,
  ): Promise<{ status: number; html: string; location: string | null } | null> {
    const base = opts.bases[turn++ % opts.bases.length];
    const startedAt = Date.now();
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        redirect: 'manual',
        headers: {
          cookie: s.cookie,
          ...(method === 'POST' ? { origin: opts.origin, 'content-type': FORM } : {}),
        },
        body: body ? new URLSearchParams({ _csrf: s.csrf, ...body }) : undefined,
        signal: AbortSignal.timeout(20000),
      });
      const html = await res.text();
      traffic.answers.push({
        kind,
        method,
        base,
        startedAt,
        endedAt: Date.now(),
        status: res.status,
        cleanUnavailable:
          res.status === 503 &&
          (res.headers.get('content-type') ?? '').startsWith('text/html') &&
          html.includes('</html>') &&
          !/\bat .+\.js:\d+/.test(html),
        excerpt:
          res.status >= 400 && res.status !== 409 && res.status !== 503
            ? (/<main[^>]*>([\s\S]*?)<\/main>/.exec(html)?.[1] ?? html)
                .replace(/<[^>]+>/g, ' ')
                .replace(/\s+/g, ' ')
                .trim()
                .slice(0, 160)
            : undefined,
      });
      return { status: res.status, html, location: res.headers.get('location') };
    } catch (err) {
      traffic.answers.push({
        kind,
        method,
        base,
        startedAt,
        endedAt: Date.now(),
        status: 0,
        cleanUnavailable: false,
        error: describe(err),
      });
      return null;
    }
  }

  const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)];
  const mine = new Map<string, number[]>();

  async function reply(s: Session, ticketId: number, kind: string): Promise<void> {
    const page = await request(s, `${kind} (page)`, 'GET', `/tickets/${ticketId}`);
    if (!page || page.status !== 200) return;
    const version = versionIn(page.html);
    const body = `${opts.tag} réponse ${++seq} de ${s.email}`;
    const res = await request(s, kind, 'POST', `/tickets/${ticketId}/replies`, {
      version: String(version),
      body,
    });
    if (res?.status === 302) traffic.replies.push({ ticketId, body, version });
    if (res?.status === 409) traffic.conflicts++;
  }

  async function employee(s: Session): Promise<void> {
    const own = mine.get(s.email) ?? [];
    const r = Math.random();
    if (r < 0.3 || !own.length) {
      const title = `${opts.tag} panne ${++seq} signalée par ${s.email}`;
      const res = await request(s, 'create', 'POST', '/tickets', {
        title,
        description: 'Le poste ne démarre plus depuis ce matin.',
        priority: 'normal',
        category_id: String(pick(opts.categoryIds)),
      });
      const id = Number(/^\/tickets\/(\d+)/.exec(res?.location ?? '')?.[1]);
      if (res?.status === 302 && id) {
        traffic.creates.push({ id, title });
        mine.set(s.email, [...own, id]);
      }
    } else if (r < 0.6) {
      await request(s, 'my tickets', 'GET', '/tickets');
    } else if (r < 0.8) {
      await request(s, 'ticket', 'GET', `/tickets/${pick(own)}`);
    } else {
      await reply(s, pick(own), 'requester reply');
    }
  }

  async function technician(s: Session): Promise<void> {
    const r = Math.random();
    if (r < 0.25) await request(s, 'queue', 'GET', '/tickets');
    else if (r < 0.35) await request(s, 'queue filtered', 'GET', '/tickets?status=new');
    else if (r < 0.45) await request(s, 'search', 'GET', '/tickets?q=poste');
    else if (r < 0.65) await request(s, 'ticket', 'GET', `/tickets/${pick(opts.hotTickets)}`);
    else await reply(s, pick(opts.hotTickets), 'staff reply');
  }

  async function user(s: Session): Promise<void> {
    // Spread the first requests over the first second.
    await sleep(Math.random() * 1000);
    while (running) {
      await (s.role === 'employee' ? employee(s) : technician(s));
      const [lo, hi] = opts.thinkMs;
      await sleep(lo + Math.random() * (hi - lo));
    }
  }

  const users = opts.sessions.map((s) => user(s));
  return {
    async stop() {
      running = false;
      await Promise.all(users);
      return traffic;
    },
  };
}
