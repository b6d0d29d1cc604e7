import { InvalidOptionError } from '@ormcache/core'
import { holdCache, planRead, tableTag } from '@ormcache/core/adapter'
import { Decimal } from '@prisma/client/runtime/client'
import { ExtensionContext, type OperationCall, resolveModel } from './context.js'
import { rawQueryKey } from './keys.js'
import { cachedRead, READ_OPERATIONS } from './model-read.js'
import {
  applyCommitted,
  isRawOperation,
  rawOperation,
  trackedWrite,
  WRITE_OPERATIONS,
} from './model-write.js'
import { type CacheExtensionOptions, resolveOptions } from './options.js'
import { internalParams, readClientInternals } from './prisma-internals.js'
import { dialectOf, rawStatement, rawVerdict, uncacheable } from './raw-sql.js'
import { buildDataModel } from './schema/data-model.js'
import { TransactionTracker } from './transactions.js'
import type { CacheExtension, CacheExtensionArgs, RawCacheOptions } from './types.js'

interface Extendable {
  $extends(extension: unknown): unknown
}

interface Disconnectable {
  $disconnect(): Promise<void>
}

interface QueryParams {
  model?: string
  operation: string
  args: unknown
  query: (args: unknown) => PromiseLike<unknown>
}

/**
 * The Prisma Client extension:
 *
 *   const prisma = new PrismaClient({ adapter }).$extends(cacheExtension({ cache }))
 *
 * Reads are cached (cache-aside) under keys derived from model, operation, arguments and client
 * context, and depend on tags derived from the schema: tables of every relation they touch, or
 * row + bulk tags for primary-key lookups. Writes invalidate exactly what they change after the
 * database write (inside `$transaction`: after the commit) and before they resolve.
 *
 * Apply it last (`.$extends(other).$extends(cacheExtension(…))`): it then sees the arguments
 * other query extensions produce, which is what the database executes.
 */
export function cacheExtension<const ModelName extends string = string>(
  options: CacheExtensionOptions<ModelName>,
): CacheExtension<ModelName> {
  const resolved = resolveOptions(options as CacheExtensionOptions)
  return (client: unknown) => {
    const internals = readClientInternals(client)
    const dataModel = buildDataModel(internals.runtimeDataModel, internals.schema)
    for (const name of Object.keys(resolved.models ?? {})) {
      if (resolveModel(dataModel, name) === undefined) {
        throw new InvalidOptionError(`models.${name}`, 'is not a model of this Prisma schema')
      }
    }
    resolved.cache.codec.useDecimal(resolved.decimal ?? Decimal)

    const tracker: TransactionTracker = new TransactionTracker(
      internals.transaction,
      // Called at commits only, after `context` below exists.
      (pending): Promise<void> => applyCommitted(context, pending.tags, pending.everything),
      // One shared connection: other queries see a transaction's uncommitted rows.
      internals.provider === 'sqlite',
    )
    const context: ExtensionContext = new ExtensionContext(
      resolved,
      dataModel,
      dialectOf(internals.provider),
      internals.globalOmit,
      tracker,
      client,
    )

    // $disconnect ends the client's connections and, with closeCache, the cache's own.
    const release = resolved.closeCache === false ? undefined : holdCache(resolved.cache)
    const base = client as Disconnectable
    const extension = {
      name: '@ormcache/prisma',
      query: {
        $allOperations(params: QueryParams) {
          return handle(context, params)
        },
      },
      client: {
        $cache: resolved.cache,
        $transaction: tracker.method(),
        async $disconnect(): Promise<void> {
          try {
            await base.$disconnect()
          } finally {
            await release?.()
          }
        },
        $queryRawCached(this: unknown, query: unknown, rawOptions: RawCacheOptions) {
          return queryRawCached(context, this, query, rawOptions)
        },
      },
    }
    return (client as Extendable).$extends(extension) as { $extends: { extArgs: CacheExtensionArgs } }
  }
}

function handle(ctx: ExtensionContext, params: QueryParams): PromiseLike<unknown> {
  const internal = internalParams(params)
  const call: OperationCall = {
    model: params.model,
    operation: params.operation,
    args: params.args,
    query: params.query,
    transaction: internal?.transaction ?? undefined,
    dataPath: internal?.dataPath ?? [],
  }
  const model = ctx.model(params.model)
  if (model === undefined) {
    return isRawOperation(call.operation) ? rawOperation(ctx, call) : params.query(params.args)
  }
  const args = (typeof params.args === 'object' && params.args !== null ? params.args : {}) as Record<
    string,
    unknown
  >
  if (READ_OPERATIONS.has(call.operation)) return cachedRead(ctx, model, call, args)
  if (WRITE_OPERATIONS.has(call.operation)) return trackedWrite(ctx, model, call, args)
  return params.query(params.args)
}

interface RawClient {
  $queryRaw(query: unknown): PromiseLike<unknown>
}

async function queryRawCached(
  ctx: ExtensionContext,
  client: unknown,
  query: unknown,
  options: RawCacheOptions,
): Promise<unknown> {
  const statement = rawStatement(query)
  if (statement === undefined || Array.isArray(query)) {
    throw new InvalidOptionError('query', 'must be a Prisma.sql`…` query')
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'pass { tags } or { tables }')
  }
  const declared = [...(options.tags ?? []), ...(options.tables ?? []).map((table) => tableTag(table))]
  if (declared.length === 0) {
    throw new InvalidOptionError('options', 'raw queries are cached only with declared tags or tables')
  }
  const raw = client as RawClient
  const verdict = rawVerdict(ctx.dialect, statement.sql)
  const tags = [...new Set([...declared, ...verdict.reads.map((table) => tableTag(table))])]
  const key = options.key ?? rawQueryKey(statement.sql, statement.values, ctx.keyContext())
  // Declared tags make the call an explicit request; a volatile function needs its own yes.
  const explicit = verdict.reason !== 'volatile' || options.volatile === true
  const plan = planRead(ctx.cache, { key, verdict, dependencies: tags, explicit })
  if (!plan.cache) throw uncacheable(plan.reason, verdict)
  if (ctx.tracker.isTransactionClient(client)) return raw.$queryRaw(query)
  const { value, info } = await ctx.cache.wrapWithInfo(key, () => raw.$queryRaw(query), {
    operation: '$queryRaw',
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    tags,
  })
  ctx.read({
    model: undefined,
    operation: '$queryRaw',
    key,
    tags,
    source: info.source,
    ...(info.reason === undefined ? {} : { reason: info.reason }),
  })
  return value
}
