import { paths } from '../../src/app';
import { translator } from '../../src/i18n';
import { renderEmail } from '../../src/notifications/outbox';

const locals = (name: string) => ({
  t: translator('fr'),
  kind: 'invite',
  link: 'https://desk.example/password/reset/abc',
  name,
  expiresHours: 72,
  baseUrl: 'https://desk.example',
});

describe('email templates', () => {
  test.each([false, true])(
    'when rendered with cache=%s, then the HTML part escapes a name and the plain-text part keeps it as typed, every time',
    async (cache) => {
      const name = `O'Brien <b>`;
      const dir = paths.views;
      for (let round = 0; round < 2; round++) {
        const html = await renderEmail(dir, 'account.html.ejs', locals(name), cache);
        const text = await renderEmail(dir, 'account.txt.ejs', locals(name), cache);
        expect(html).toContain('O&#39;Brien &lt;b&gt;');
        expect(text).toContain(`O'Brien <b>`);
        expect(text).not.toContain('&#39;');
        // Another recipient: a cached template renders their own name, not the first one's.
        const other = await renderEmail(dir, 'account.txt.ejs', locals('Zoé'), cache);
        expect(other).toContain('Zoé');
        expect(other).not.toContain('Brien');
      }
    },
  );
});
