import {
  addDays,
  isDay,
  lastWeeks,
  mondayOf,
  periodOf,
  startOfDay,
  today,
} from '../../src/dashboard/calendar';
import { bars, lineChart, niceStep } from '../../src/dashboard/charts';

describe('calendar days in the desk time zone', () => {
  test('isDay accepts real days only', () => {
    expect(['2026-11-24', '2024-02-29'].every(isDay)).toBe(true);
    for (const bad of [
      '2026-02-30',
      '2025-02-29',
      '2026-13-01',
      '26-11-24',
      '2026-11-24T00:00',
      "2026-11-24' or 1=1",
      20261124,
      null,
    ]) {
      expect(isDay(bad)).toBe(false);
    }
  });

  test('today is the date on the wall clock of the time zone', () => {
    const lateSunday = new Date('2026-11-15T23:30:00Z');
    expect(today(lateSunday, 'UTC')).toBe('2026-11-15');
    expect(today(lateSunday, 'Europe/Paris')).toBe('2026-11-16');
    expect(today(lateSunday, 'America/Montreal')).toBe('2026-11-15');
  });

  test('weeks start on Monday; day arithmetic crosses months and DST changes', () => {
    expect(mondayOf('2026-11-22')).toBe('2026-11-16'); // Sunday
    expect(mondayOf('2026-11-16')).toBe('2026-11-16');
    expect(addDays('2026-10-24', 2)).toBe('2026-10-26'); // over the end of summer time
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  test('a day starts at midnight on the wall clock, summer time and half-hour zones included', () => {
    const start = (day: string, tz: string) => startOfDay(day, tz).toISOString();
    expect(start('2026-11-16', 'Europe/Paris')).toBe('2026-11-15T23:00:00.000Z');
    expect(start('2026-07-01', 'Europe/Paris')).toBe('2026-06-30T22:00:00.000Z');
    expect(start('2026-10-25', 'Europe/Paris')).toBe('2026-10-24T22:00:00.000Z'); // ends at 23:00Z
    expect(start('2026-10-26', 'Europe/Paris')).toBe('2026-10-25T23:00:00.000Z');
    expect(start('2026-03-29', 'Europe/Paris')).toBe('2026-03-28T23:00:00.000Z');
    expect(start('2026-11-16', 'Asia/Kolkata')).toBe('2026-11-15T18:30:00.000Z');
    expect(start('2026-11-16', 'America/Montreal')).toBe('2026-11-16T05:00:00.000Z');
    expect(start('2026-11-16', 'UTC')).toBe('2026-11-16T00:00:00.000Z');
  });

  test('a period is N days up to today, compared with the N days before', () => {
    expect(periodOf(new Date('2026-11-18T10:00:00Z'), 'Europe/Paris', 7)).toEqual({
      current: { from: '2026-11-12', to: '2026-11-18' },
      previous: { from: '2026-11-05', to: '2026-11-11' },
    });
  });

  test('the last 12 weeks end with the current one', () => {
    const weeks = lastWeeks(new Date('2026-11-18T10:00:00Z'), 'Europe/Paris', 12);
    expect(weeks).toHaveLength(12);
    expect(weeks[11]).toEqual({ from: '2026-11-16', to: '2026-11-22' });
    expect(weeks[0]).toEqual({ from: '2026-08-31', to: '2026-09-06' });
  });
});

describe('chart geometry', () => {
  test('axis steps are round numbers', () => {
    expect([0, 3, 7, 10, 45, 180, 9999].map((m) => niceStep(m))).toEqual([
      1, 1, 2, 5, 20, 50, 5000,
    ]);
  });

  test('the largest value touches the top tick, zero sits on the baseline, x spreads evenly', () => {
    const chart = lineChart(['a', 'b', 'c'], [{ key: 's', name: 'S', values: [0, 5, 10] }], String);
    const ys = chart.series[0].points.map((p) => p.y);
    expect(ys[0]).toBe(chart.bottom);
    expect(ys[2]).toBe(chart.ticks[chart.ticks.length - 1].y);
    expect(chart.ticks.map((t) => t.label)).toEqual(['0', '5', '10']);
    const xs = chart.series[0].points.map((p) => p.x);
    expect(xs[1] - xs[0]).toBeCloseTo(xs[2] - xs[1]);
    expect(chart.series[0].segments).toHaveLength(2);
    // Every other label (counting from the last) can hide on a phone.
    expect(chart.xLabels.map((l) => l.minor)).toEqual([false, true, false]);
  });

  test('an empty chart still draws an axis', () => {
    const chart = lineChart(['a', 'b'], [{ key: 's', name: 'S', values: [0, 0] }], String);
    expect(chart.ticks.map((t) => t.label)).toEqual(['0', '1']);
  });

  test('bars scale to the largest, and a small non-zero value stays visible', () => {
    const out = bars([
      { label: 'a', value: 1000, text: '1000', href: '/a' },
      { label: 'b', value: 1, text: '1', href: '/b' },
      { label: 'c', value: 0, text: '0', href: '/c' },
    ]);
    expect(out.map((b) => b.pct)).toEqual([100, 1, 0]);
  });
});
