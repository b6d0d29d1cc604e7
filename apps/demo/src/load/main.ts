import { runHomepageScenario, type ScenarioProgress } from '../scenario/homepage.js'
import { parseLoadArgs, USAGE, UsageError } from './args.js'
import { type DemoProcess, startDemoProcess } from './demo-process.js'
import {
  estimateLine,
  estimateWindow,
  finishedLine,
  progressLine,
  refinedEstimateLine,
  resultTable,
  summary,
} from './report.js'

/**
 * `npm run demo:load`: "2,000 users open the homepage", for each ORM, with the cache off and
 * then on, against a running demo (--url) or one started for the run. Prints a progress bar, an
 * upper-bound estimate once the first run has measured its pace, a refined one once the first ORM
 * is done, and a table at the end.
 */
async function main(): Promise<void> {
  const { plan, url } = parseLoadArgs(process.argv.slice(2))
  let demo: DemoProcess | undefined
  if (url === undefined) {
    process.stderr.write('starting the demo…\n')
    demo = await startDemoProcess()
  }
  const target = url ?? demo!.url
  const tty = process.stderr.isTTY === true
  let lastDraw = 0
  let lastDecile = -1
  const total = plan.requests * plan.orms.length * plan.modes.length
  const startedAt = performance.now()
  let estimated = false
  let paceFrom: { done: number; at: number } | undefined
  const draw = (progress: ScenarioProgress) => {
    // During the first run: pace measured past its cold start, then one line with the estimate.
    if (!estimated && progress.run === 1) {
      const span = estimateWindow(progress.total)
      const now = performance.now()
      if (paceFrom === undefined && progress.done >= span.from)
        paceFrom = span.from === 0 ? { done: 0, at: startedAt } : { done: progress.done, at: now }
      if (paceFrom !== undefined && progress.done >= span.to && now > paceFrom.at) {
        estimated = true
        const rate = ((progress.done - paceFrom.done) / (now - paceFrom.at)) * 1000
        const elapsed = (now - startedAt) / 1000
        const line = estimateLine(rate, total - progress.done, elapsed, progress.runs, progress.cache)
        process.stderr.write(tty ? `\r${line}${' '.repeat(20)}\n` : `${line}\n`)
      }
    }
    // Once the first ORM has run in every mode: the others take about as long (same requests).
    // Written after the progress line that ends that run.
    const refined =
      progress.run === plan.modes.length && progress.done === progress.total && plan.orms.length > 1
        ? `${refinedEstimateLine((performance.now() - startedAt) / 1000, plan.orms.length)}\n`
        : ''
    if (tty) {
      const now = Date.now()
      if (now - lastDraw < 100 && progress.done < progress.total) return
      lastDraw = now
      process.stderr.write(`\r${progressLine(progress)}`)
      if (progress.done === progress.total) process.stderr.write(`\n${refined}`)
    } else {
      // No terminal (CI logs): one line per tenth instead of redrawing.
      const decile = Math.floor((progress.done / progress.total) * 10) + progress.run * 11
      if (decile !== lastDecile) process.stderr.write(`${progressLine(progress)}\n`)
      lastDecile = decile
      process.stderr.write(refined)
    }
  }
  try {
    process.stderr.write(
      `homepage scenario: ${plan.requests.toLocaleString('en-US')} requests per run, concurrency ${plan.concurrency}, against ${target}\n`,
    )
    const runs = await runHomepageScenario(target, plan, draw)
    console.log(`\n${resultTable(runs)}\n`)
    for (const line of summary(runs)) console.log(line)
    console.log(finishedLine((performance.now() - startedAt) / 1000))
    if (runs.some((run) => run.failed > 0)) process.exitCode = 1
  } finally {
    await demo?.stop()
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    if (error.message) console.error(`demo:load: ${error.message}\n`)
    console.error(USAGE)
    process.exit(2)
  }
  console.error(`demo:load: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
