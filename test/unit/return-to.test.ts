import { safeReturnTo } from '../../src/http/guards';

describe('safeReturnTo', () => {
  test.each([
    ['/tickets/12', '/tickets/12'],
    ['/tickets?status=new&q=a', '/tickets?status=new&q=a'],
  ])('when %s is local, then it is kept', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });

  test.each([
    '//evil.example',
    '//evil.example/tickets',
    '/\\evil.example',
    'http://evil.example',
    'https://evil.example/x',
    'javascript:alert(1)',
    '/\tevil',
    '\n//evil.example',
    '',
    undefined,
    ['/a', '/b'],
  ])('when %p is not a local path, then it falls back to /', (input) => {
    expect(safeReturnTo(input)).toBe('/');
  });
});
