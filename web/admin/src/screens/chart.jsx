// chart.jsx - a bar chart drawn by uPlot (canvas; it sets element.style
// from script, which the admin CSP allows, and its stylesheet is bundled).
// The same figures are given as a table for screen readers.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export function BarChart({ title, labels, values, unit }) {
	const box = useRef(null);
	useEffect(() => {
		if (!box.current) return undefined;
		const fit = () => Math.max(240, Math.min(640, box.current ? box.current.clientWidth : 480));
		const width = fit();
		const xs = labels.map((_, i) => i);
		const plot = new uPlot(
			{
				width,
				height: 220,
				legend: { show: false },
				cursor: { show: false },
				scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.15)] } },
				axes: [
					{ values: (u, splits) => splits.map((i) => (Number.isInteger(i) && labels[i] !== undefined ? labels[i] : '')), splits: () => xs },
					{ values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
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
						<tr key={l}>
							<th scope="row">{l}</th>
							<td>
								{values[i]} {unit}
							</td>
						</tr>
					))}
				</tbody>
			</table>
		</figure>
	);
}
