import type { CacheSwitch, ScenarioProgress, ScenarioRun } from '../scenario/homepage.js'

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** `[██████░░░░] 60%  run 2/4 prisma, cache on  6,000/10,000` in `width` bar cells. */
export function progressLine(progress: ScenarioProgress, width = 30): string {
  const fraction = progress.total === 0 ? 1 : progress.done / progress.total
  const filled = Math.round(fraction * width)
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4)
  return `[${bar}] ${pct}  run ${progress.run}/${progress.runs} ${progress.orm}, cache ${progress.cache}  ${fmt(progress.done)}/${fmt(progress.total)}`
}

/**
 * The run-time estimate, printed once the first run has measured its pace past its cold start
 * (the first requests wait for connections and JIT: paced from the start, the estimate came out
 * 5x too long). The first run has the cache off, the slowest mode, so its pace over the
 * remaining requests bounds the rest of the scenario from above: `elapsed + remaining / rate`.
 */
export function estimateLine(
  rate: number,
  remaining: number,
  elapsedSeconds: number,
  runs: number,
  firstRunCache: CacheSwitch = 'off',
): string {
  const estimate = Math.ceil(elapsedSeconds + (rate > 0 ? remaining / rate : 0))
  const clock = estimate >= 90 ? `${fmt(estimate / 60, 1)} min` : `${fmt(estimate)} s`
  // Only a cache-off first run is the slowest one; from a cache-on run it is a plain estimate.
  const bound = firstRunCache === 'off' ? 'at most ~' : '~'
  return `estimate: ${bound}${clock} for ${runs} run${runs === 1 ? '' : 's'} (${fmt(rate)} req/s with the cache ${firstRunCache})`
}

/**
 * When to measure the pace for the estimate, in requests of the first run: from `from` (past the
 * cold start) to `to`. Tiny runs measure the whole run.
 */
export function estimateWindow(total: number): { from: number; to: number } {
  const from = Math.min(total, Math.max(50, Math.round(total * 0.25)))
  const to = Math.min(total, Math.max(from + 100, Math.round(total * 0.5)))
  return from === to ? { from: 0, to } : { from, to }
}

/**
 * The estimate refined once the first ORM has run in every mode: each ORM sends the same
 * requests in the same modes, so the whole scenario takes about `orms` times as long.
 */
export function refinedEstimateLine(firstOrmSeconds: number, orms: number): string {
  const estimate = Math.ceil(firstOrmSeconds * orms)
  const clock = estimate >= 90 ? `${fmt(estimate / 60, 1)} min` : `${fmt(estimate)} s`
  return `estimate: ~${clock} in all (the first ORM's runs took ${fmt(firstOrmSeconds, 1)} s)`
}

/** `finished in 16.4 s` (the scenario's own time, to compare with the estimate). */
export function finishedLine(seconds: number): string {
  return `finished in ${seconds >= 90 ? `${fmt(seconds / 60, 1)} min` : `${fmt(seconds, 1)} s`}`
}

const COLUMNS: [string, (run: ScenarioRun) => string][] = [
  ['ORM', (r) => r.orm],
  ['cache', (r) => r.cache],
  ['requests', (r) => fmt(r.requests)],
  ['DB queries', (r) => fmt(r.dbQueries)],
  ['hit ratio', (r) => `${fmt(r.hitRatio * 100, 1)}%`],
  ['req/s', (r) => fmt(r.rps)],
  ['p50 ms', (r) => fmt(r.p50, 2)],
  ['p99 ms', (r) => fmt(r.p99, 2)],
  ['failed', (r) => fmt(r.failed)],
]

/** The scenario's results as an aligned text table (text columns left, numbers right). */
export function resultTable(runs: readonly ScenarioRun[]): string {
  const cells = runs.map((run) => COLUMNS.map(([, cell]) => cell(run)))
  const widths = COLUMNS.map(([title], c) => Math.max(title.length, ...cells.map((row) => row[c]!.length)))
  const line = (row: string[]) =>
    row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  const rule = widths.map((w) => '─'.repeat(w)).join('  ')
  return [line(COLUMNS.map(([title]) => title)), rule, ...cells.map(line)].join('\n')
}

/** One sentence per ORM that ran with the cache both off and on. */
export function summary(runs: readonly ScenarioRun[]): string[] {
  const lines: string[] = []
  for (const orm of new Set(runs.map((r) => r.orm))) {
    const off = runs.find((r) => r.orm === orm && r.cache === 'off')
    const on = runs.find((r) => r.orm === orm && r.cache === 'on')
    if (off === undefined || on === undefined) continue
    const factor = on.dbQueries === 0 ? '' : ` (${fmt(off.dbQueries / on.dbQueries)}x fewer)`
    lines.push(
      `${orm}: ${fmt(on.requests)} homepages cost the database ${fmt(on.dbQueries)} queries with the cache on, ${fmt(off.dbQueries)} without${factor}.`,
    )
  }
  return lines
}
