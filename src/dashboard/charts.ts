/**
 * Geometry of the dashboard's SVG charts, computed on the server. Horizontal positions are
 * percentages and vertical ones pixels, so a chart fills any width while its text keeps its
 * size: readable on a phone and on a wide screen alike, without JavaScript.
 */

export interface Tick {
  y: number;
  label: string;
}

export interface Point {
  /** Percent of the chart's width. */
  x: number;
  y: number;
  value: number;
}

export interface Series {
  key: string;
  name: string;
  points: Point[];
  /** Straight segments between consecutive points (SVG polylines cannot mix % and px). */
  segments: { x1: number; y1: number; x2: number; y2: number }[];
}

export interface LineChart {
  height: number;
  /** Baseline of the plot, in pixels. */
  bottom: number;
  ticks: Tick[];
  xLabels: { x: number; label: string; /** Hidden on narrow screens. */ minor: boolean }[];
  series: Series[];
}

const HEIGHT = 240;
const TOP = 14;
const BOTTOM = 200;
/** Left and right margins in percent: the first and last points keep clear of the edges. */
const LEFT = 7;
const RIGHT = 3;

/** A round step (1, 2 or 5 × 10ⁿ) giving at most `count` intervals up to `max`. */
export function niceStep(max: number, count = 4): number {
  if (max <= 0) return 1;
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return Math.max(1, step);
}

export function lineChart(
  labels: string[],
  series: { key: string; name: string; values: number[] }[],
  format: (n: number) => string,
): LineChart {
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (v: number) => BOTTOM - ((BOTTOM - TOP) * v) / top;
  const x = (i: number) =>
    labels.length <= 1 ? 50 : LEFT + ((100 - LEFT - RIGHT) * i) / (labels.length - 1);
  const round = (n: number) => Math.round(n * 100) / 100;

  const ticks: Tick[] = [];
  for (let v = 0; v <= top; v += step) ticks.push({ y: round(y(v)), label: format(v) });

  return {
    height: HEIGHT,
    bottom: BOTTOM,
    ticks,
    xLabels: labels.map((label, i) => ({
      x: round(x(i)),
      label,
      minor: (labels.length - 1 - i) % 2 === 1,
    })),
    series: series.map((s) => {
      const points = s.values.map((value, i) => ({ x: round(x(i)), y: round(y(value)), value }));
      return {
        key: s.key,
        name: s.name,
        points,
        segments: points.slice(1).map((p, i) => ({
          x1: points[i].x,
          y1: points[i].y,
          x2: p.x,
          y2: p.y,
        })),
      };
    }),
  };
}

export interface Bar {
  label: string;
  value: number;
  /** The value as the reader's locale writes it. */
  text: string;
  href: string;
  /** Length in percent of the longest bar's track. */
  pct: number;
  /** Modifier for the bar's colour (a priority, say). */
  tone?: string;
}

/** Bars scaled to the largest value; a non-zero value always shows at least a sliver. */
export function bars(items: Omit<Bar, 'pct'>[]): Bar[] {
  const max = Math.max(0, ...items.map((i) => i.value));
  return items.map((i) => ({
    ...i,
    pct: max === 0 || i.value === 0 ? 0 : Math.max(1, Math.round((i.value / max) * 1000) / 10),
  }));
}
