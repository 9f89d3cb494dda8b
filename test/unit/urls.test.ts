import { listUrl, listUrls } from '../../src/http/urls';

describe('list URLs', () => {
  it('writes the filters in order, leaving empty ones out and joining lists with commas', () => {
    expect(listUrl('/tickets', {})).toBe('/tickets');
    expect(
      listUrl('/tickets', {
        status: ['new', 'waiting'],
        priority: undefined,
        category: 3,
        assignee: null,
        q: '',
        sort: 'created',
        tags: [],
        cursor: 'eyJrIjpbIjIwMjYiXX0-_',
      }),
    ).toBe('/tickets?status=new%2Cwaiting&category=3&sort=created&cursor=eyJrIjpbIjIwMjYiXX0-_');
  });

  it('encodes every value as a form does (URLSearchParams)', () => {
    const values = [
      'imprimante hp',
      "l'écran & <b>clavier</b>",
      'a+b=c?d#e/f',
      "!'()~*-._",
      '100 %',
      'ملف عربي',
      '🙂 emoji',
      '2026-11-24',
    ];
    for (const q of values) {
      const expected = `/tickets?${new URLSearchParams({ q, sort: 'activity' }).toString()}`;
      expect(listUrl('/tickets', { q, sort: 'activity' })).toBe(expected);
      expect(new URL(`http://x${listUrl('/tickets', { q })}`).searchParams.get('q')).toBe(q);
    }
  });
});

describe("one list page's URLs", () => {
  it('gives each URL as listUrl does with the filters replaced, the new ones after the others', () => {
    const params = {
      status: ['new'],
      q: "l'écran",
      priority: undefined,
      sort: 'created',
      cursor: undefined,
    };
    const urls = listUrls('/tickets', params);
    const overs: Record<string, unknown>[] = [
      {},
      { status: [] },
      { status: ['waiting', 'new'] },
      { cursor: 'eyJrIjpbXX0' },
      { q: undefined, sort: 'oldest' },
      { priority: 'high', created_from: '2026-11-01', created_to: '' },
    ];
    for (const over of overs) {
      expect(urls(over)).toBe(listUrl('/tickets', { ...params, ...over }));
    }
    expect(urls({ created_from: '2026-11-01', priority: 'high' })).toBe(
      '/tickets?status=new&q=l%27%C3%A9cran&priority=high&sort=created&created_from=2026-11-01',
    );
  });
});
