import type { Chart } from './types.js'

/** One colour per library, so a library looks the same in every chart. */
const COLOURS: Record<string, string> = {
  ormcache: '#1f6feb',
  floor: '#8b949e',
  uncached: '#57606a',
  bentocache: '#d9822b',
  'cache-manager': '#2da44e',
  'prisma-extension-redis': '#8250df',
  'typeorm-builtin': '#cf222e',
}

const WIDTH = 900
const LABEL_WIDTH = 300
const BAR_HEIGHT = 18
const BAR_GAP = 4
const GROUP_GAP = 16
const TOP = 48
const RIGHT = 110

/**
 * Renders a grouped horizontal bar chart as standalone SVG text: no fonts to embed, no native
 * dependencies, and a diff of two runs' charts is readable in review.
 */
export function renderChart(chart: Chart): string {
  const bars = chart.groups.flatMap((g) => g.bars)
  const positive = bars.map((b) => b.value).filter((v) => Number.isFinite(v) && v > 0)
  const max = positive.length > 0 ? Math.max(...positive) : 1
  const min = positive.length > 0 ? Math.min(...positive) : 1
  const plotWidth = WIDTH - LABEL_WIDTH - RIGHT
  const logMin = Math.log10(Math.max(min / 2, Number.MIN_VALUE))
  const logMax = Math.log10(max)
  const length = (v: number): number => {
    if (!Number.isFinite(v) || v <= 0) return 0
    if (chart.scale === 'linear') return (v / max) * plotWidth
    return logMax === logMin ? plotWidth : ((Math.log10(v) - logMin) / (logMax - logMin)) * plotWidth
  }

  const parts: string[] = []
  let y = TOP
  for (const group of chart.groups) {
    parts.push(text(8, y + 12, group.label, 'group'))
    y += 20
    for (const bar of group.bars) {
      const w = length(bar.value)
      const colour = COLOURS[bar.library] ?? '#6e7781'
      parts.push(text(LABEL_WIDTH - 8, y + BAR_HEIGHT - 5, bar.label, 'label'))
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${w.toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}" rx="2"/>`,
      )
      parts.push(text(LABEL_WIDTH + w + 6, y + BAR_HEIGHT - 5, formatValue(bar.value, chart.unit), 'value'))
      y += BAR_HEIGHT + BAR_GAP
    }
    y += GROUP_GAP
  }
  const height = y + 8
  const scaleNote = chart.scale === 'log' ? ' (log scale)' : ''
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<style>.title{font-size:15px;font-weight:bold}.group{font-weight:bold}.label{text-anchor:end}.value{fill:#24292f}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(8, 22, `${chart.title}${scaleNote}`, 'title'),
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}

function text(x: number, y: number, content: string, cls: string): string {
  return `<text x="${x}" y="${y}" class="${cls}">${escapeXml(content)}</text>`
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a'
  const rounded =
    Math.abs(value) >= 100
      ? Math.round(value).toLocaleString('en-US')
      : value.toLocaleString('en-US', { maximumFractionDigits: 2 })
  return `${rounded} ${unit}`
}
