// chart.jsx - a bar chart drawn by uPlot (canvas; it sets element.style
// from script, which the admin CSP allows, and its stylesheet is bundled).
// The same figures are given as a table for screen readers.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

// fmt(v) writes a value for the axis and the table (default: as it is);
// with many bars only every n-th label is written so they do not overlap.
export function BarChart({ title, labels, values, unit, fmt = String }) {
	const box = useRef(null);
	useEffect(() => {
		if (!box.current) return undefined;
		const fit = () => Math.max(240, Math.min(640, box.current ? box.current.clientWidth : 480));
		const width = fit();
		const xs = labels.map((_, i) => i);
		const every = Math.max(1, Math.ceil(labels.length / Math.max(1, Math.floor(width / 70))));
		const plot = new uPlot(
			{
				width,
				height: 220,
				legend: { show: false },
				cursor: { show: false },
				scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (u, min, max) => [Math.min(0, min * 1.15), Math.max(1, max * 1.15)] } },
				axes: [
					{ values: (u, splits) => splits.map((i) => (Number.isInteger(i) && labels[i] !== undefined && i % every === 0 ? labels[i] : '')), splits: () => xs },
					{ values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? fmt(v) : '')), size: 60 },
				],
				series: [{}, { label: unit, fill: '#3b6ea8', stroke: '#25507f', width: 1, paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } }],
			},
			[xs, values],
			box.current
		);
		// follow the box (a phone turned, two charts side by side)
		const ro = new ResizeObserver(() => {
			const w = fit();
			if (w !== plot.width) plot.setSize({ width: w, height: 220 });
		});
		ro.observe(box.current);
		return () => {
			ro.disconnect();
			plot.destroy();
		};
	}, [labels.join('|'), values.join('|')]);
	return (
		<figure class="chart">
			<figcaption>{title}</figcaption>
			<div ref={box} aria-hidden="true" class="chart-box" />
			<table class="sr-only">
				<caption>{title}</caption>
				<tbody>
					{labels.map((l, i) => (
						<tr key={`${i}-${l}`}>
							<th scope="row">{l}</th>
							<td>
								{fmt(values[i])} {unit}
							</td>
						</tr>
					))}
				</tbody>
			</table>
		</figure>
	);
}
