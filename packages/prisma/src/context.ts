import type { Cache } from '@ormcache/core'
import { composesReads, Memo, reportListenerError, type SqlDialect } from '@ormcache/core/adapter'
import type { ModelCacheSettings, ReadEvent, ResolvedOptions, WriteEvent } from './options.js'
import { clientProperty, queryHooked } from './prisma-internals.js'
import type { ReadDependencies } from './read-deps/read-deps.js'
import type { DataModel, ModelInfo } from './schema/data-model.js'
import type { TransactionTracker } from './transactions.js'

/** One `$allOperations` call, as the paths below need it. */
export interface OperationCall {
  model: string | undefined
  operation: string
  args: unknown
  query: (args: unknown) => PromiseLike<unknown>
  transaction: { kind?: string; id?: unknown } | undefined
  dataPath: readonly string[]
}

/** Everything the read, write and raw paths share; one per extended client. */
export class ExtensionContext {
  readonly cache: Cache
  private readonly modelSettings = new Map<string, false | ModelCacheSettings>()

  constructor(
    readonly options: ResolvedOptions,
    readonly dataModel: DataModel,
    readonly dialect: SqlDialect | undefined,
    private readonly globalOmit: unknown,
    readonly tracker: TransactionTracker,
    private readonly base?: unknown,
  ) {
    this.cache = options.cache
    this.splitsIncludes = composesReads(this.cache) && globalOmit === undefined && base !== undefined
    for (const [name, setting] of Object.entries(options.models ?? {})) {
      const model = resolveModel(dataModel, name)
      if (model !== undefined) this.modelSettings.set(model.name, setting)
    }
  }

  /**
   * Whether a missed read may assemble its included relations from cached parent and child reads
   * (read-split/include-split.ts): the cache composes reads soundly, and no global omit changes
   * what a nested read returns.
   */
  readonly splitsIncludes: boolean

  /**
   * `findMany` of `target` on the client this extension extends, or undefined when another query
   * extension would see that call (it does not see a relation Prisma loads inside an include).
   */
  childQuery(target: ModelInfo): ((args: unknown) => PromiseLike<unknown>) | undefined {
    if (this.hooked(target.name, 'findMany')) return undefined
    const base = this.base as Record<string, unknown>
    const delegate = base[clientProperty(target.name)] as
      | { findMany?: (args: unknown) => PromiseLike<unknown> }
      | undefined
    const findMany = delegate?.findMany
    return typeof findMany === 'function' ? (args) => findMany.call(delegate, args) : undefined
  }

  /**
   * True when a query extension applied before this one hooks `operation` of `model` (or we cannot
   * tell). Asked on every missed include read, and constant for a client (Prisma's extension list
   * of a client never changes; extending it again makes another client, with its own context):
   * answered once per model and operation of this context.
   */
  hooked(model: string, operation: string): boolean {
    const key = `${model}:${operation}`
    let hooked = this.hooks.get(key)
    if (hooked === undefined) {
      hooked = queryHooked(this.base, model, operation)
      this.hooks.set(key, hooked)
    }
    return hooked
  }

  /** One entry per model and read operation asked about: bounded by the schema. */
  private readonly hooks = new Map<string, boolean>()

  model(name: string | undefined): ModelInfo | undefined {
    return name === undefined ? undefined : this.dataModel.models.get(name)
  }

  settingsFor(model: string): false | ModelCacheSettings {
    return this.modelSettings.get(model) ?? {}
  }

  /**
   * The analysis of a read is a pure function of the schema and the read's arguments, and hot
   * reads repeat: it runs once per `memoKey` (the canonical query key plus what else the analysis
   * reads). The result is shared by every later read with that key, so its tag list is frozen.
   */
  readDependencies(memoKey: string, analyse: () => ReadDependencies): ReadDependencies {
    const known = this.dependencies.get(memoKey)
    if (known !== undefined) return known
    const fresh = analyse()
    Object.freeze(fresh.tags)
    this.dependencies.set(memoKey, Object.freeze(fresh))
    return fresh
  }

  private readonly dependencies = new Memo<ReadDependencies>()

  /** Client settings and user context that change results; part of every key. */
  keyContext(): unknown {
    const user = this.options.context?.()
    if (this.globalOmit === undefined && user === undefined) return undefined
    return { omit: this.globalOmit, user }
  }

  /** Hook failures never fail the query: reported once per hook, as an ERR_LISTENER error event. */
  read(event: ReadEvent): void {
    const onRead = this.options.onRead
    if (onRead === undefined) return
    try {
      onRead(event)
    } catch (error) {
      reportListenerError(this.cache, onRead, 'prisma onRead', error)
    }
  }

  async wrote(event: WriteEvent): Promise<void> {
    const onWrite = this.options.onWrite
    if (onWrite === undefined) return
    try {
      await onWrite(event)
    } catch (error) {
      reportListenerError(this.cache, onWrite, 'prisma onWrite', error)
    }
  }

  /**
   * A fault the extension absorbed so the query could still succeed: an `error` event on the
   * cache (code ERR_ADAPTER unless it already is an ormcache error), counted in its stats.
   */
  report(error: unknown, operation: string): void {
    try {
      this.cache.reportError(error, `prisma:${operation}`)
    } catch {
      // Reporting must never fail a query either.
    }
  }
}

/** `User` or its client property name `user`. */
export function resolveModel(dataModel: DataModel, name: string): ModelInfo | undefined {
  const direct = dataModel.models.get(name)
  if (direct !== undefined) return direct
  for (const model of dataModel.models.values()) {
    if (clientProperty(model.name) === name) return model
  }
  return undefined
}
