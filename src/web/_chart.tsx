import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

/** One line or stack layer of a time chart. */
export interface ChartSeries {
	readonly label: string;
	readonly values: readonly number[];
	readonly color: string;
	/** `left`: the stacked bars of the main count; `right`: a line on its own axis. */
	readonly axis: "left" | "right";
}

/** Colours for series, told apart in both themes. */
export const PALETTE = [
	"#e4572e",
	"#3b82f6",
	"#f5a623",
	"#10b981",
	"#a855f7",
	"#64748b",
	"#ec4899",
	"#14b8a6",
] as const;

function cssColor(name: string): string {
	return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/**
 * A time chart drawn by uPlot: the left-axis series as stacked bars (each layer's own count in the
 * legend), the right-axis ones as lines. `times` are ms since the epoch, one per point.
 */
export function TimeChart(props: {
	readonly times: readonly number[];
	readonly series: readonly ChartSeries[];
	readonly leftLabel: string;
	readonly rightLabel?: string;
	readonly height?: number;
	readonly label: string;
	/** Changes of theme redraw the chart in the new colours. */
	readonly theme: string;
}) {
	const box = useRef<HTMLDivElement>(null);
	const { times, series, leftLabel, rightLabel, height = 260, theme } = props;
	useEffect(() => {
		const target = box.current;
		if (target === null) return;
		const left = series.filter((s) => s.axis === "left");
		const right = series.filter((s) => s.axis === "right");
		// Stacks bottom-up: layer i is drawn at the sum of layers 0…i, the tallest first, so each
		// shorter one paints over the foot of the one above it.
		const sums: number[][] = [];
		left.forEach((s, i) => {
			sums.push(s.values.map((v, j) => v + (i === 0 ? 0 : (sums[i - 1]?.[j] ?? 0))));
		});
		const drawn = left.map((s, i) => ({ s, values: sums[i] ?? [] })).reverse();
		const fg = cssColor("--muted");
		const grid = cssColor("--grid");
		const axis = (scale: string, label: string, side: 1 | 3): uPlot.Axis => ({
			scale,
			label,
			side,
			stroke: fg,
			grid: { show: side === 3, stroke: grid, width: 1 },
			ticks: { stroke: grid, width: 1 },
			size: 56,
		});
		const bars = uPlot.paths.bars?.({ size: [0.85, 40] });
		const chart = new uPlot(
			{
				width: target.clientWidth || 600,
				height,
				scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
				axes: [
					{ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
					axis("y", leftLabel, 3),
					...(right.length > 0 ? [axis("r", rightLabel ?? "", 1)] : []),
				],
				series: [
					{},
					...drawn.map(({ s }): uPlot.Series => {
						const own = s.values;
						return {
							label: s.label,
							scale: "y",
							stroke: s.color,
							fill: `${s.color}cc`,
							width: 0,
							...(bars === undefined ? {} : { paths: bars }),
							points: { show: false },
							value: (_u, _v, _si, i) => (i === null ? "–" : String(own[i] ?? 0)),
						};
					}),
					...right.map(
						(s): uPlot.Series => ({
							label: s.label,
							scale: "r",
							stroke: s.color,
							width: 2,
							points: { show: false },
						}),
					),
				],
				legend: { live: true },
				cursor: { points: { show: false } },
			},
			[
				times.map((t) => t / 1000),
				...drawn.map(({ values }) => values),
				...right.map((s) => [...s.values]),
			] as uPlot.AlignedData,
			target,
		);
		const resize = new ResizeObserver(() => {
			chart.setSize({ width: target.clientWidth, height });
		});
		resize.observe(target);
		return () => {
			resize.disconnect();
			chart.destroy();
		};
	}, [times, series, leftLabel, rightLabel, height, theme]);
	const points = series.reduce((n, s) => n + s.values.filter((v) => v > 0).length, 0);
	return <div class="chart" ref={box} role="img" aria-label={props.label} data-points={points} />;
}

/** A small line of counts over time, for a table row. */
export function Sparkline(props: { readonly values: readonly number[]; readonly label: string }) {
	const { values } = props;
	const w = 120;
	const h = 28;
	const max = Math.max(1, ...values);
	const step = values.length > 1 ? w / (values.length - 1) : 0;
	const points = values
		.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`)
		.join(" ");
	return (
		<svg
			class="spark"
			viewBox={`0 0 ${w} ${h}`}
			width={w}
			height={h}
			role="img"
			aria-label={props.label}
		>
			<polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
		</svg>
	);
}
