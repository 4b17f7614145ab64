import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartColumns } from './chart-data';

/** Series colours, readable on the light and the dark theme alike. */
export const SERIES = [
  { label: 'Calls sent', stroke: '#3b6fe0', fill: 'rgba(59, 111, 224, 0.14)' },
  { label: 'Waiting in queue (most at once)', stroke: '#c47f00', fill: undefined },
  { label: '“Slow down” answers (429)', stroke: '#d03b2f', fill: undefined },
] as const;

type Props = { columns: ChartColumns; title: string };

function themeColor(el: Element, fallback: string): string {
  const c = getComputedStyle(el).color;
  return c || fallback;
}

/** The last hour as a line chart (uPlot on a canvas); the caller gives a text alternative. */
export function LimitsChart({ columns, title }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const ink = themeColor(el, '#475467');
    const grid = 'rgba(128, 128, 128, 0.18)';
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 200,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
      axes: [axis, { ...axis, label: 'per minute', size: 50 }],
      legend: { show: true },
      series: [
        { label: 'Time' },
        ...SERIES.map((s, i) => ({
          label: s.label,
          stroke: s.stroke,
          width: i === 0 ? 2 : 1.5,
          ...(s.fill ? { fill: s.fill } : {}),
          points: { show: false },
        })),
      ],
    };
    const p = new uPlot(opts, columns, el);
    plot.current = p;
    const resize = new ResizeObserver(() => {
      const width = Math.max(280, el.clientWidth);
      if (width !== p.width) p.setSize({ width, height: 200 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
      plot.current = null;
    };
    // Created once; new data goes through setData below.
  }, []);

  useEffect(() => {
    plot.current?.setData(columns);
  }, [columns]);

  return <div class="limits-chart" ref={host} role="img" aria-label={title} data-testid="limits-chart-canvas" />;
}
