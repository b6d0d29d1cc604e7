import { ORMS, type OrmName } from '../blog/types.js'
import { type CacheSwitch, DEFAULT_PLAN, type ScenarioPlan } from '../scenario/homepage.js'

export interface LoadArgs {
  plan: ScenarioPlan
  /** A running demo to target; undefined starts one in a child process. */
  url: string | undefined
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run demo:load -- [--requests N] [--concurrency N] [--orm prisma|typeorm|both] [--cache off|on|both] [--url http://127.0.0.1:PORT]

  --requests     homepage requests per run (default ${DEFAULT_PLAN.requests}, at most 100000)
  --concurrency  requests in flight at once (default ${DEFAULT_PLAN.concurrency}, at most 512)
  --orm          which ORM's homepage to load (default both)
  --cache        run with the cache off, on, or both one after the other (default both)
  --url          a running demo on this machine; without it a demo is started for the run
                 (DATABASE_URL and CACHE_URL apply to it as to npm run demo)`

export function parseLoadArgs(argv: readonly string[]): LoadArgs {
  const plan: ScenarioPlan = { ...DEFAULT_PLAN }
  let url: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [name, inline] = arg.includes('=') ? (arg.split(/=(.*)/s) as [string, string]) : [arg, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined) throw new UsageError(`${name} needs a value`)
      return v
    }
    switch (name) {
      case '--requests':
        plan.requests = count(name, value(), 100_000)
        break
      case '--concurrency':
        plan.concurrency = count(name, value(), 512)
        break
      case '--orm': {
        const orm = value()
        if (orm !== 'both' && !ORMS.includes(orm as OrmName))
          throw new UsageError(`--orm must be prisma, typeorm or both, not "${orm}"`)
        plan.orms = orm === 'both' ? [...ORMS] : [orm as OrmName]
        break
      }
      case '--cache': {
        const cache = value()
        if (!['off', 'on', 'both'].includes(cache))
          throw new UsageError(`--cache must be off, on or both, not "${cache}"`)
        plan.modes = cache === 'both' ? ['off', 'on'] : [cache as CacheSwitch]
        break
      }
      case '--url':
        url = value().replace(/\/$/, '')
        break
      case '-h':
      case '--help':
        throw new UsageError('')
      default:
        throw new UsageError(`unknown argument "${arg}"`)
    }
  }
  return { plan, url }
}

function count(name: string, raw: string, max: number): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${name} must be an integer from 1 to ${max}, not "${raw}"`)
  return n
}
