import { parseAnyTimestamp, parseTimestamptz } from '../../src/db/knex';

describe('reading timestamptz from PostgreSQL', () => {
  test.each([
    '2026-11-24 12:40:43+00',
    '2026-11-24 12:40:43.7+00',
    '2026-11-24 12:40:43.29+00',
    '2026-11-24 12:40:43.767123+00',
    '2026-11-24 12:40:43.999999+00',
    '2026-11-24 12:40:43.000001-03',
    '2026-03-29 02:30:00+05:30',
    '2026-03-29 02:30:00.5-09:30',
    '1999-12-31 23:59:59.999+14',
    '2000-02-29 00:00:00+00',
  ])('when the text is %p, then the instant is the one pg reads', (text) => {
    expect(parseTimestamptz(text).getTime()).toBe((parseAnyTimestamp(text) as Date).getTime());
  });

  test.each([
    '0099-01-01 00:00:00+00',
    '12026-01-01 00:00:00+00',
    '2026-01-01 00:00:00+05:45:10',
    '2026-01-01 00:00:00+00 BC',
    'infinity',
    '-infinity',
  ])('when the text is unusual (%p), then pg parses it', (text) => {
    expect(String(parseTimestamptz(text))).toBe(String(parseAnyTimestamp(text)));
  });
});
