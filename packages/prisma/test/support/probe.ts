/**
 * Counts the statements a driver adapter executes, and can pause one: the deterministic race
 * tests hold a reader's database query (after its cache version snapshot, before its fill) on a
 * gate while a writer commits.
 */
export class QueryProbe {
  count = 0
  readonly statements: string[] = []
  private readonly pauses: Pause[] = []

  reset(): void {
    this.count = 0
    this.statements.length = 0
  }

  /** Statements executed while `run` runs. */
  async measure<T>(run: () => Promise<T>): Promise<{ value: T; count: number }> {
    this.reset()
    const value = await run()
    return { value, count: this.count }
  }

  /** Counts statements that match (e.g. only SELECTs on one table). */
  countMatching(match: RegExp): number {
    return this.statements.filter((sql) => match.test(sql)).length
  }

  /**
   * The next statement matching `match` waits until `release()`: before it runs, or with
   * `after: true` once it has run and before its rows are returned (a reader holding old rows).
   * `reached` resolves when the pause begins.
   */
  pauseNext(
    match: RegExp,
    options: { after?: boolean } = {},
  ): { reached: Promise<void>; release: () => void } {
    let reach!: () => void
    let release!: () => void
    const reached = new Promise<void>((resolve) => {
      reach = resolve
    })
    const opened = new Promise<void>((resolve) => {
      release = resolve
    })
    this.pauses.push({ match, reach, opened, after: options.after === true })
    return { reached, release }
  }

  /** Runs one statement through the probe. */
  async run<T>(sql: string, execute: () => Promise<T>): Promise<T> {
    this.count++
    this.statements.push(sql)
    const index = this.pauses.findIndex((pause) => pause.match.test(sql))
    if (index === -1) return execute()
    const [pause] = this.pauses.splice(index, 1)
    if (!pause!.after) {
      pause!.reach()
      await pause!.opened
      return execute()
    }
    const result = await execute()
    pause!.reach()
    await pause!.opened
    return result
  }
}

interface Pause {
  match: RegExp
  reach: () => void
  opened: Promise<void>
  after: boolean
}

interface Queryable {
  queryRaw(query: { sql: string }): Promise<unknown>
  executeRaw(query: { sql: string }): Promise<unknown>
}

interface AdapterFactory {
  connect(): Promise<object>
}

/** Wraps a Prisma driver adapter factory so every statement passes through `probe`. */
export function countingAdapter<F extends AdapterFactory>(factory: F, probe: QueryProbe): F {
  return new Proxy(factory, {
    get(target, prop, receiver) {
      if (prop === 'connect') {
        return async () => wrapQueryable(await target.connect(), probe)
      }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function wrapQueryable<T extends object>(inner: T, probe: QueryProbe): T {
  return new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      if (prop === 'queryRaw' || prop === 'executeRaw') {
        return (query: { sql: string }) =>
          probe.run(query.sql, () => (value as Queryable['queryRaw']).call(target, query))
      }
      if (prop === 'executeScript') {
        return (script: string) =>
          probe.run(script, () => (value as (s: string) => Promise<void>).call(target, script))
      }
      if (prop === 'startTransaction') {
        return async (...args: unknown[]) =>
          wrapQueryable(await (value as (...a: unknown[]) => Promise<object>).apply(target, args), probe)
      }
      return value.bind(target)
    },
  })
}
