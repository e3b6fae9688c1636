/**
 * The usage view's HTML: a bar per day (tokens, cost), then accept and kept rates, from an
 * `inkstream/usage` report. Pure (no `vscode`), inline SVG, no scripts and no remote content.
 */
import { formatCost, type UsageFigures, type UsageReport } from '../protocol';

const BAR_WIDTH = 11;
const CHART_HEIGHT = 110;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function pct(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 100)}%`;
}

function num(value: number): string {
  return value.toLocaleString('en-US');
}

/** One SVG bar chart: a bar per day, the day's value on hover (a <title>). */
export function barChart(label: string, days: { day: string; value: number | null }[], format: (v: number) => string): string {
  const top = Math.max(0, ...days.map((d) => d.value ?? 0));
  const width = days.length * (BAR_WIDTH + 3) + 3;
  const bars = days
    .map((d, i) => {
      const value = d.value ?? 0;
      const height = top > 0 ? Math.max(value > 0 ? 1 : 0, Math.round((CHART_HEIGHT * value) / top)) : 0;
      const x = 3 + i * (BAR_WIDTH + 3);
      const y = CHART_HEIGHT - height;
      const tip = `${d.day}: ${d.value === null ? 'unknown' : format(value)}`;
      return `<rect class="bar" x="${x}" y="${y}" width="${BAR_WIDTH}" height="${height}"><title>${escape(tip)}</title></rect>`;
    })
    .join('');
  const first = days[0]?.day ?? '';
  const last = days[days.length - 1]?.day ?? '';
  return `<figure><figcaption>${escape(label)} <span class="dim">(max ${escape(format(top))})</span></figcaption>
<svg role="img" aria-label="${escape(label)}" width="${width}" height="${CHART_HEIGHT + 2}" viewBox="0 0 ${width} ${CHART_HEIGHT + 2}">
<line class="axis" x1="0" y1="${CHART_HEIGHT + 1}" x2="${width}" y2="${CHART_HEIGHT + 1}"/>${bars}</svg>
<div class="range"><span>${escape(first)}</span><span>${escape(last)}</span></div></figure>`;
}

function figuresRow(name: string, f: UsageFigures): string {
  const cells = [
    name,
    num(f.requests),
    num(f.promptTokens + f.generatedTokens),
    num(f.neverShownTokens),
    f.cost === null ? '–' : formatCost(f.cost),
    `${f.accepted}/${f.shown}`,
    pct(f.acceptRate),
    pct(f.keptRate30s),
    pct(f.keptRate2m),
    f.medianTimeToFirstGhostMs === null ? '–' : `${Math.round(f.medianTimeToFirstGhostMs)} ms`,
  ];
  return `<tr>${cells.map((c, i) => (i === 0 ? `<th>${escape(c)}</th>` : `<td>${escape(c)}</td>`)).join('')}</tr>`;
}

function table(title: string, rows: [string, UsageFigures][]): string {
  if (rows.length === 0) {
    return '';
  }
  const head = ['', 'requests', 'tokens', 'never shown', 'cost', 'accepted', 'accept rate', 'kept 30 s', 'kept 2 min', 'first ghost']
    .map((h) => `<th>${h}</th>`)
    .join('');
  return `<h2>${escape(title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${rows.map(([n, f]) => figuresRow(n, f)).join('')}</tbody></table>`;
}

export function renderUsage(report: UsageReport, nonce: string): string {
  const t = report.totals;
  const tokens = report.days.map((d) => ({ day: d.day, value: d.promptTokens + d.generatedTokens }));
  const anyCost = report.days.some((d) => d.cost !== null);
  const cost = report.days.map((d) => ({ day: d.day, value: d.cost }));
  const accept = report.days.map((d) => ({ day: d.day, value: d.acceptRate === null ? null : d.acceptRate * 100 }));
  const summary = [
    `<div class="card"><b>${num(t.promptTokens + t.generatedTokens)}</b><span>tokens</span></div>`,
    `<div class="card"><b>${t.cost === null ? '–' : formatCost(t.cost)}</b><span>cost${t.unpricedRequests ? ` (${t.unpricedRequests} unpriced)` : ''}</span></div>`,
    `<div class="card"><b>${pct(t.acceptRate)}</b><span>accepted (${t.accepted}/${t.shown})</span></div>`,
    `<div class="card"><b>${pct(t.keptRate2m)}</b><span>kept after 2 min</span></div>`,
    `<div class="card"><b>${num(t.neverShownTokens)}</b><span>tokens never shown</span></div>`,
    `<div class="card"><b>${num(t.stoppedEarly)}</b><span>requests stopped early</span></div>`,
  ].join('');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<title>inkstream usage</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px 16px; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
.dim, .range { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
.card { border: 1px solid var(--vscode-panel-border, #8884); border-radius: 4px; padding: 6px 10px; min-width: 110px; }
.card b { display: block; font-size: 1.4em; } .card span { color: var(--vscode-descriptionForeground); }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } figure { margin: 1em 0 0; }
figcaption { margin-bottom: 4px; } .range { display: flex; justify-content: space-between; }
.bar { fill: var(--vscode-charts-blue, #3794ff); } .axis { stroke: var(--vscode-panel-border, #888); }
table { border-collapse: collapse; } th, td { padding: 2px 10px; text-align: right; }
th:first-child { text-align: left; } thead th { border-bottom: 1px solid var(--vscode-panel-border, #888); }
</style></head><body>
<h1>inkstream usage, ${escape(report.from)} to ${escape(report.to)}</h1>
${report.recording ? '' : '<p><b>Usage is not being recorded on this machine (see the server output).</b></p>'}
<div class="cards">${summary}</div>
<div class="charts">
${barChart('Tokens per day', tokens, num)}
${anyCost ? barChart('Cost per day', cost, formatCost) : '<p class="dim">No cost: set <code>inkstream.pricing</code> for your model to see one.</p>'}
${barChart('Accept rate per day', accept, (v) => `${Math.round(v)}%`)}
</div>
${table('By language', report.byLanguage.map((r) => [r.language, r]))}
${table('By model', report.byModel.map((r) => [r.model, r]))}
${table('By endpoint', report.byEndpoint.map((r) => [r.endpoint, r]))}
<p class="dim">Recorded on this machine only; see docs/usage.md. In a terminal: <code>inkstream stats</code>.</p>
</body></html>`;
}
