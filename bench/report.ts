/** Tables, targets, the Markdown section and the SVG plot of a benchmark run. */
import { Stats } from "./measure";

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd?: readonly number[];
}

/** The scaling runs: the same pools-<N>.json files synthesized two ways. */
export const SCALING_SERIES = [
  { prefix: "pools", name: "node synth.js", command: "node synth.js", color: "#1f5fbf" },
  { prefix: "tsx-pools", name: "tsx main.ts (from source, for comparison)", command: "tsx main.ts", color: "#999999" },
] as const;

export interface Measurement {
  readonly id: string;
  readonly label: string;
  readonly command: string;
  readonly pools?: number;
  readonly stats: Stats;
}

export interface Target {
  readonly id: string;
  readonly description: string;
  readonly value: number;
  readonly limit: number;
  readonly unit: string;
  readonly pass: boolean;
}

export interface Results {
  readonly date: string;
  readonly machine: Machine;
  readonly runsPerMeasurement: number;
  readonly rssMethod: string;
  readonly durationS: number;
  readonly measurements: readonly Measurement[];
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
}

const s = (ms: number) => (ms / 1000).toFixed(2);
const mib = (kb: number | undefined) => (kb === undefined ? "n/a" : (kb / 1024).toFixed(0));

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`)];
}

export function find(results: Pick<Results, "measurements">, id: string): Measurement | undefined {
  return results.measurements.find((m) => m.id === id);
}

/** The measurement tables and the targets, as Markdown (also readable in a terminal). */
export function renderTables(results: Results): string {
  const floor = find(results, "floor");
  const tsNode = find(results, "ts-node");
  const ratio = (m: Measurement, base: Measurement | undefined) => (base ? `${(m.stats.medianMs / base.stats.medianMs).toFixed(2)}x` : "n/a");
  const single = results.measurements.filter((m) => m.pools === undefined);
  const lines: string[] = [];
  lines.push(
    ...table(
      ["Measurement", "Command", "Median s", "Min s", "Max s", "Peak RSS MiB", "vs floor", "vs ts-node"],
      single.map((m) => [
        m.label,
        `\`${m.command}\``,
        s(m.stats.medianMs),
        s(m.stats.minMs),
        s(m.stats.maxMs),
        mib(m.stats.peakRssKb),
        /^(tf|test)-/.test(m.id) ? "" : ratio(m, floor),
        /^(tf|test)-/.test(m.id) ? "" : ratio(m, tsNode),
      ]),
    ),
  );
  for (const series of SCALING_SERIES) {
    const rows = results.measurements.filter((m) => m.id.startsWith(`${series.prefix}-`) && m.pools !== undefined);
    if (rows.length === 0) continue;
    lines.push("", `**Scaling, ${series.name}:** \`${rows[0].command}\``, "");
    const first = rows[0];
    lines.push(
      ...table(
        ["Pools", "Stacks", "Median s", "Min s", "Max s", "Marginal ms/pool", "Peak RSS MiB"],
        rows.map((m) => [
          String(m.pools),
          String(2 * (m.pools ?? 0)),
          s(m.stats.medianMs),
          s(m.stats.minMs),
          s(m.stats.maxMs),
          m === first ? "" : ((m.stats.medianMs - first.stats.medianMs) / ((m.pools ?? 1) - (first.pools ?? 1))).toFixed(1),
          mib(m.stats.peakRssKb),
        ]),
      ),
    );
  }
  lines.push("", "**Targets:**", "");
  const value = (v: number, unit: string) => `${v.toFixed(unit === "%" || unit === "x" ? 2 : 1)} ${unit}`;
  lines.push(
    ...table(
      ["Target", "Limit", "Measured", "Result"],
      results.targets.map((t) => [t.description, `${t.limit} ${t.unit}`, value(t.value, t.unit), t.pass ? "PASS" : "**FAIL**"]),
    ),
  );
  return lines.join("\n");
}

export function renderMachine(results: Results): string {
  const m = results.machine;
  return (
    `Run on ${results.date}: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB.toFixed(1)} GiB memory, Node ${m.node}, ` +
    `${m.platform}; load average at start ${m.loadAverageStart.map((v) => v.toFixed(2)).join(" ")}` +
    (m.loadAverageEnd ? `, at end ${m.loadAverageEnd.map((v) => v.toFixed(2)).join(" ")}` : "") +
    `. ${results.runsPerMeasurement} timed runs per row (after one warm-up run for the single-configuration rows and 1/10 pools), ` +
    `interleaved round by round so drift hits every row alike; peak RSS by ${results.rssMethod === "gnu-time" ? "GNU time (`/usr/bin/time -f %M`: the largest single process of the command's tree)" : "a preloaded reporter of `process.resourceUsage().maxRSS` (largest Node process of the tree)"}; ` +
    `the whole benchmark took ${results.durationS.toFixed(0)} s.`
  );
}

/** Replaces the generated section of help/performance.md (or appends it). */
export function updateMarkdown(existing: string | undefined, results: Results, svgFile: string | undefined): string {
  const begin = "<!-- bench:begin (generated by npm run bench; edits here are overwritten) -->";
  const end = "<!-- bench:end -->";
  const section = [
    begin,
    "",
    renderMachine(results),
    "",
    renderTables(results),
    "",
    ...results.notes.map((note) => `- ${note}`),
    ...(svgFile ? ["", `![Scaling: wall time and peak RSS against the number of work pools](${svgFile})`] : []),
    "",
    end,
  ].join("\n");
  const text = existing ?? "# Performance\n\n## Latest benchmark\n\n";
  const from = text.indexOf("<!-- bench:begin");
  const to = text.indexOf(end);
  if (from >= 0 && to > from) return text.slice(0, from) + section + text.slice(to + end.length);
  return `${text.trimEnd()}\n\n${section}\n`;
}

/** Text for SVG/XML content and attributes. */
const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
/** A coordinate, rounded so the file stays small and readable. */
const c = (v: number) => Number(v.toFixed(1));

interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { x: number; median: number; min: number; max: number }[];
}

/** 1, 2, 2.5 or 5 times a power of ten: the smallest at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
}

/** Two panels (wall time, peak RSS) against the number of pools, with the targets drawn in. */
export function renderSvg(results: Results): string {
  const series = (prefix: string, name: string, color: string, pick: (m: Measurement) => [number, number, number]): Series => ({
    name,
    color,
    points: results.measurements
      .filter((m) => m.id.startsWith(`${prefix}-`) && m.pools !== undefined)
      .map((m) => {
        const [median, min, max] = pick(m);
        return { x: m.pools as number, median, min, max };
      }),
  });
  const time = (m: Measurement): [number, number, number] => [m.stats.medianMs / 1000, m.stats.minMs / 1000, m.stats.maxMs / 1000];
  const rss = (m: Measurement): [number, number, number] => {
    const median = (m.stats.medianRssKb ?? 0) / 1024;
    const peak = (m.stats.peakRssKb ?? 0) / 1024;
    return [median, median, peak];
  };
  const width = 900;
  const height = 400;
  const panel = (x0: number, title: string, unit: string, data: Series[], limit?: { y: number; label: string }): string => {
    const w = 340;
    const h = 230;
    const y0 = 60;
    const maxX = 100;
    const top = Math.max(limit?.y ?? 0, ...data.flatMap((d) => d.points.map((p) => p.max))) || 1;
    const step = niceStep(top / 4);
    const maxY = Math.ceil(top / step) * step;
    const px = (x: number) => c(x0 + (x / maxX) * w);
    const py = (y: number) => c(y0 + h - (y / maxY) * h);
    const out: string[] = [];
    out.push(`<text x="${x0 + w / 2}" y="${y0 - 20}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
    for (let y = 0; y <= maxY + step / 2; y += step) {
      out.push(`<line x1="${x0 - 4}" y1="${py(y)}" x2="${x0 + w}" y2="${py(y)}" stroke="#ddd"/>`);
      out.push(`<text x="${x0 - 7}" y="${py(y) + 4}" text-anchor="end">${Number(y.toFixed(2))}</text>`);
    }
    out.push(`<line x1="${x0}" y1="${y0 + h}" x2="${x0 + w}" y2="${y0 + h}" stroke="#333"/>`);
    out.push(`<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y0 + h}" stroke="#333"/>`);
    for (const x of [0, 25, 50, 75, 100]) {
      out.push(`<line x1="${px(x)}" y1="${y0 + h}" x2="${px(x)}" y2="${y0 + h + 4}" stroke="#333"/>`);
      out.push(`<text x="${px(x)}" y="${y0 + h + 17}" text-anchor="middle">${x}</text>`);
    }
    out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 34}" text-anchor="middle">${esc("work pools (2 stacks each)")}</text>`);
    out.push(`<text x="${x0 - 40}" y="${y0 + h / 2}" text-anchor="middle" transform="rotate(-90 ${x0 - 40} ${y0 + h / 2})">${esc(unit)}</text>`);
    if (limit) {
      out.push(`<line x1="${x0}" y1="${py(limit.y)}" x2="${x0 + w}" y2="${py(limit.y)}" stroke="#c00" stroke-dasharray="6 4"/>`);
      out.push(`<text x="${x0 + 6}" y="${py(limit.y) - 5}" fill="#c00">${esc(limit.label)}</text>`);
    }
    for (const d of data) {
      out.push(`<polyline fill="none" stroke="${d.color}" stroke-width="2" points="${d.points.map((p) => `${px(p.x)},${py(p.median)}`).join(" ")}"/>`);
      for (const p of d.points) {
        out.push(`<line x1="${px(p.x)}" y1="${py(p.min)}" x2="${px(p.x)}" y2="${py(p.max)}" stroke="${d.color}"/>`);
        out.push(`<circle cx="${px(p.x)}" cy="${py(p.median)}" r="3.5" fill="${d.color}"/>`);
      }
    }
    return out.join("\n");
  };
  const timeSeries = SCALING_SERIES.map((d) => series(d.prefix, d.name, d.color, time));
  const rssSeries = SCALING_SERIES.map((d) => series(d.prefix, d.name, d.color, rss));
  const legend = SCALING_SERIES.flatMap((d, i) => [
    `<rect x="70" y="${height - 46 + 20 * i}" width="16" height="4" fill="${d.color}"/>`,
    `<text x="92" y="${height - 40 + 20 * i}">${esc(`${d.command} --config pools-<N>.json (${d.name})`)}</text>`,
  ]);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width - 10}" y="16" text-anchor="end" fill="#666" font-size="10">${esc(`${results.date}, ${results.machine.cores} cores (${results.machine.cpuModel}), Node ${results.machine.node}`)}</text>`,
    panel(80, "Wall time (median; bars: min to max)", "seconds", timeSeries, { y: 4, label: "target: 100 pools under 4 s" }),
    panel(530, "Peak RSS (median; bar up to the largest)", "MiB", rssSeries),
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
