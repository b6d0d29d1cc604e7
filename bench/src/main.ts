import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { removeRunKeys } from './cleanup.js'
import { parseArgs, USAGE, UsageError } from './cli.js'
import { runPrefix } from './config.js'
import type { RunReport, ScenarioReport } from './report/types.js'
import { writeResults } from './report/write.js'
import { Progress } from './runner/progress.js'
import { SCENARIOS } from './scenarios/index.js'
import type { Timing } from './scenarios/types.js'
import { installedVersions } from './versions.js'

const BENCH_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const LIBRARIES = [
  '@ormcache/core',
  '@ormcache/prisma',
  '@ormcache/typeorm',
  'bentocache',
  'cache-manager',
  'keyv',
  '@keyv/redis',
  'prisma-extension-redis',
  'typeorm',
  '@prisma/client',
  'ioredis',
  'memjs',
  'pg',
]

async function main(): Promise<number> {
  let options: ReturnType<typeof parseArgs>
  try {
    options = parseArgs(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`bench: ${error.message}\n${USAGE}\nscenarios: ${SCENARIOS.map((s) => s.id).join(', ')}`)
    return 2
  }
  if (options.help) {
    console.log(`${USAGE}\nscenarios: ${SCENARIOS.map((s) => s.id).join(', ')}`)
    return 0
  }
  const unknown = (options.only ?? []).filter((id) => !SCENARIOS.some((s) => s.id === id))
  if (unknown.length > 0) {
    console.error(
      `bench: unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`,
    )
    return 2
  }
  const selected = SCENARIOS.filter((s) => options.only === undefined || options.only.includes(s.id))
  const defaults: Timing = options.quick
    ? { warmupMs: 100, roundMs: 150, rounds: 3 }
    : { warmupMs: 1_000, roundMs: 1_500, rounds: 5 }
  const timing: Timing = {
    warmupMs: options.warmupMs ?? defaults.warmupMs,
    roundMs: options.roundMs ?? defaults.roundMs,
    rounds: options.rounds ?? defaults.rounds,
  }
  const progress = new Progress()
  const startedAt = new Date()
  const loadAverageAtStart = os.loadavg()
  const scenarios: ScenarioReport[] = []
  const failures: RunReport['failures'] = []
  progress.step(
    `${options.quick ? 'quick' : 'full'} run of ${selected.map((s) => s.id).join(', ')}; key prefix ${runPrefix}`,
  )
  let removed = 0
  for (const scenario of selected) {
    progress.begin(scenario.id, scenario.title)
    try {
      const report = await scenario.run({ quick: options.quick, timing, progress, prefix: runPrefix })
      scenarios.push(report)
      for (const error of report.errors ?? []) failures.push({ scenario: scenario.id, error })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      progress.step(`FAILED: ${message}`)
      if (error instanceof Error && error.stack) console.error(error.stack)
      failures.push({ scenario: scenario.id, error: message })
    }
    // Each scenario starts on the same Redis: a keyspace grown by the ones before it slowed the
    // libraries that touch many keys per operation more than the others.
    removed += await removeRunKeys(runPrefix)
  }
  progress.begin('', 'results')
  progress.step(`removed ${removed} Redis keys under ${runPrefix}`)
  const cpus = os.cpus()
  const run: RunReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    packagesFrom: process.env.TSX_TSCONFIG_PATH?.endsWith('tsconfig.source.json') ? 'source' : 'build',
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      loadAverageAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    versions: installedVersions(LIBRARIES),
    scenarios,
    failures,
  }
  const out = resolve(options.out ?? join(BENCH_ROOT, 'results'))
  const files = await writeResults(out, run)
  progress.step(`wrote ${files.markdown}, ${files.json} and ${files.charts.length} chart(s)`)
  if (failures.length > 0) {
    console.error(
      `bench: ${failures.length} scenario(s) failed: ${failures.map((f) => f.scenario).join(', ')}`,
    )
    return 1
  }
  return 0
}

// A library's background promise that rejects (typically while it closes its connections) is
// reported on stderr instead of ending the run in the middle of another library's measurement.
process.on('unhandledRejection', (reason) => {
  console.error('bench: unhandled rejection from a library:', reason)
})

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
