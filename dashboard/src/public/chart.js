// A migration's rows/s over time, drawn by uPlot on a canvas (no markup from data).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

/** The chart of `rates` ([time ms, rows/s] pairs). */
export function RateChart({ rates, unit }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const data = [rates.map(([t]) => t / 1000), rates.map(([, r]) => r)];
    if (!plot.current) {
      plot.current = new uPlot({
        width: 560, height: 140, legend: { show: false }, cursor: { show: false },
        series: [{}, { label: `${unit}/s`, stroke: '#2f6fdf', width: 2, fill: 'rgba(47,111,223,0.1)' }],
        axes: [{}, { size: 70 }],
      }, data, box.current);
    } else {
      plot.current.setData(data);
    }
  }, [rates, unit]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div class="chart" ref=${box}></div>`;
}
