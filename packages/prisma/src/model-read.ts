import { type AfterLoad, OrmCacheError, type ReadInfo } from '@ormcache/core'
import { planRead } from '@ormcache/core/adapter'
import type { ExtensionContext, OperationCall } from './context.js'
import { keyOperation, queryKey } from './keys.js'
import { queryCacheSettings } from './options.js'
import { readDependencies } from './read-deps/read-deps.js'
import { assembleSplit, type SplitPlan, splitPlan } from './read-split/include-split.js'
import type { ModelInfo } from './schema/data-model.js'

export const READ_OPERATIONS = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
])

/**
 * Cache-aside for one model read. Reads inside a transaction, reads of disabled models and
 * `cache: false` go straight to the database. The OrThrow variants share entries with their
 * plain twins and let Prisma raise its own not-found error when the cached result is null.
 *
 * With `own`, the value is the caller's alone, to change in place (the include split stitches
 * into it). A hit already is: core decodes or copies one per reader (lookup-batch.test.ts, 250
 * readers get 250 values), and so is a result the database returned to this call alone (a
 * skipped read, Prisma's own not-found query). A loaded value is copied: it is also what this
 * load's waiters copy from, maybe after this caller resumed.
 */
export async function cachedRead(
  ctx: ExtensionContext,
  model: ModelInfo,
  call: OperationCall,
  args: Record<string, unknown>,
  own = false,
): Promise<unknown> {
  const perQuery = queryCacheSettings(args.cache)
  const queryArgs = withoutCache(args)
  const skip = (reason: string) => {
    ctx.read({
      model: model.name,
      operation: call.operation,
      key: undefined,
      tags: [],
      source: 'skip',
      reason,
    })
    return call.query(queryArgs)
  }
  if (call.transaction !== undefined) return skip('transaction')
  const modelSettings = ctx.settingsFor(model.name)
  if (perQuery === false || (modelSettings === false && perQuery === undefined)) return skip('disabled')
  // A view reads tables no write here can name: cached only when the query declares its tags.
  if (model.isView && perQuery?.tags === undefined && perQuery?.key === undefined) return skip('view')

  let key: string
  let tags: readonly string[]
  let derived: readonly string[]
  let afterLoad: AfterLoad | undefined
  try {
    const precise = call.dataPath.length === 0 && perQuery?.tags === undefined
    const members = ctx.options.listTags === 'members'
    const analyse = () =>
      readDependencies(ctx.dataModel, model, call.operation, queryArgs, { precise, members })
    // The canonical key names model, operation and arguments exactly: equal keys, equal analysis.
    const canonical =
      perQuery?.key === undefined
        ? queryKey({
            model: model.name,
            operation: keyOperation(call.operation),
            args: queryArgs,
            dataPath: call.dataPath,
            context: ctx.keyContext(),
          })
        : undefined
    const dependencies =
      canonical === undefined
        ? analyse()
        : ctx.readDependencies(`${call.operation}|${precise ? 'p' : 'c'}|${canonical}`, analyse)
    derived = dependencies.tags
    tags = perQuery?.tags === undefined ? dependencies.tags : [...dependencies.tags, ...perQuery.tags]
    afterLoad = dependencies.afterLoad
    key = perQuery?.key ?? canonical!
  } catch (error) {
    // Arguments we cannot key (Prisma will likely reject them): no caching, same result.
    ctx.report(error, 'key')
    return skip('unkeyable')
  }
  // An entry no write could invalidate is an analysis bug: refused, and reported as an error event.
  const plan = planRead(ctx.cache, { key, dependencies: derived, explicit: false })
  if (!plan.cache) return skip(plan.reason)

  const settings = modelSettings === false ? {} : modelSettings
  const orThrow = call.operation.endsWith('OrThrow')
  let notFound: unknown
  let loaded = false
  const load = async () => {
    loaded = true
    if (!orThrow) {
      // A value that other writes may evict often: assembled from cached parts (include-split.ts).
      const split =
        perQuery?.key === undefined && perQuery?.tags === undefined
          ? splitOf(ctx, model, call, queryArgs)
          : undefined
      return split === undefined ? call.query(queryArgs) : assemble(ctx, model, call, split)
    }
    try {
      return await call.query(queryArgs)
    } catch (error) {
      if (!isNotFound(error)) throw error
      notFound = error
      return null
    }
  }
  let result: { value: unknown; info: ReadInfo }
  try {
    result = await ctx.cache.wrapWithInfo<unknown>(key, load, {
      model: model.name,
      operation: call.operation,
      ttl: perQuery?.ttl ?? settings.ttl ?? ctx.options.ttl,
      tags,
      afterLoad,
      staleWhileRevalidate:
        perQuery?.staleWhileRevalidate ?? settings.staleWhileRevalidate ?? ctx.options.staleWhileRevalidate,
    })
  } catch (error) {
    // A cache closed during shutdown does not fail the queries still in flight.
    if (loaded || !OrmCacheError.is(error) || error.code !== 'ERR_CACHE_CLOSED') throw error
    return skip('closed')
  }
  const { value, info } = result
  report(ctx, model, call, key, tags, info)
  if (orThrow && (value === null || value === undefined)) {
    if (notFound !== undefined) throw notFound
    // A cached null: Prisma produces its own not-found error (with the caller's call site).
    return call.query(queryArgs)
  }
  return own && info.source !== 'hit' ? ctx.cache.codec.clone(value) : value
}

function splitOf(
  ctx: ExtensionContext,
  model: ModelInfo,
  call: OperationCall,
  args: Record<string, unknown>,
): SplitPlan | undefined {
  if (!ctx.splitsIncludes || call.dataPath.length > 0 || ctx.hooked(model.name, call.operation))
    return undefined
  return splitPlan(ctx.dataModel, model, call.operation, args, (target) => ctx.childQuery(target))
}

/**
 * The parent read and each child read go through `cachedRead` under their own keys and tags, so
 * a write to a child reloads only the children and a write to a parent only the parents
 * (docs/design.md, "Included relations assembled from cached parts").
 */
function assemble(
  ctx: ExtensionContext,
  model: ModelInfo,
  call: OperationCall,
  plan: SplitPlan,
): Promise<unknown> {
  // Stitching writes into the parts: read as this call's own (cachedRead `own`).
  const nested =
    (target: ModelInfo, operation: string, query: OperationCall['query']) =>
    (args: Record<string, unknown>) =>
      cachedRead(
        ctx,
        target,
        { model: target.name, operation, args, query, transaction: undefined, dataPath: [] },
        args,
        true,
      )
  return assembleSplit(
    plan,
    nested(model, call.operation, call.query),
    (relation, args) => nested(relation.target, 'findMany', relation.query)(args),
    (value) => ctx.cache.codec.clone(value),
  )
}

export function withoutCache(args: Record<string, unknown>): Record<string, unknown> {
  if (!('cache' in args)) return args
  const { cache: _ignored, ...rest } = args
  return rest
}

function report(
  ctx: ExtensionContext,
  model: ModelInfo,
  call: OperationCall,
  key: string,
  tags: readonly string[],
  info: ReadInfo,
): void {
  ctx.read({
    model: model.name,
    operation: call.operation,
    key,
    tags,
    source: info.source,
    ...(info.reason === undefined ? {} : { reason: info.reason }),
  })
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2025'
}
