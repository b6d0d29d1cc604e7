export interface CliOptions {
  quick: boolean
  only: string[] | undefined
  out: string | undefined
  rounds: number | undefined
  roundMs: number | undefined
  warmupMs: number | undefined
  help: boolean
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run bench -- [--quick] [--only <scenario,…>] [--out <dir>]
                     [--rounds <n>] [--round-ms <ms>] [--warmup-ms <ms>]

  --quick        short rounds and small workloads (CI smoke; well under two minutes)
  --only         run only these scenarios (ids below), comma-separated
  --out          where latest.md, latest.json and the charts go (default bench/results)
  --rounds, --round-ms, --warmup-ms   override the timing of throughput scenarios`

export function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = {
    quick: false,
    only: undefined,
    out: undefined,
    rounds: undefined,
    roundMs: undefined,
    warmupMs: undefined,
    help: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = splitFlag(argv[i]!)
    const value = (): string => {
      const v = inline ?? argv[++i]
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      return v
    }
    switch (flag) {
      case '--quick':
        options.quick = true
        break
      case '--only':
        options.only = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
        break
      case '--out':
        options.out = value()
        break
      case '--rounds':
        options.rounds = positiveInteger(flag, value())
        break
      case '--round-ms':
        options.roundMs = positiveInteger(flag, value())
        break
      case '--warmup-ms':
        options.warmupMs = positiveInteger(flag, value(), true)
        break
      case '--help':
      case '-h':
        options.help = true
        break
      default:
        throw new UsageError(`unknown argument "${argv[i]}"`)
    }
  }
  return options
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=')
  return arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined]
}

function positiveInteger(flag: string, raw: string, allowZero = false): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} integer`)
  }
  return n
}
