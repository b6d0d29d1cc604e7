import type { WriteIntent } from '@ormcache/core'
import type { ExtensionContext, OperationCall } from './context.js'
import { queryKey } from './keys.js'
import { withoutCache } from './model-read.js'
import { RAW_OPERATIONS, rawEffects, rawStatement } from './raw-sql.js'
import { readDependencies } from './read-deps/read-deps.js'
import type { ModelInfo } from './schema/data-model.js'
import { keyFromRow, keyFromWhere, keyRowTag, keyWhere, writesKey } from './schema/primary-key.js'
import { type WriteEffects, writeEffects } from './write-effects/write-effects.js'

export const WRITE_OPERATIONS = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
])

/** How long after an untracked interactive transaction's write the tags are bumped again. */
const UNTRACKED_TRANSACTION_GRACE_MS = 5_000

/** A single-row write whose returned row can fill the primary-key lookup entry. */
interface FillPlan {
  rowTag: string
  lookupKey: string
  tags: readonly string[]
  ttl: number | undefined
}

/**
 * A model write: run it, then invalidate what it changed before the mutation resolves — or,
 * inside a transaction, buffer the invalidations for the commit. Cache faults never fail the
 * write: it already happened.
 */
export async function trackedWrite(
  ctx: ExtensionContext,
  model: ModelInfo,
  call: OperationCall,
  args: Record<string, unknown>,
): Promise<unknown> {
  const queryArgs = withoutCache(args)
  const effectsOf = (result: unknown) =>
    safely(ctx, () => writeEffects(ctx.dataModel, model, call.operation, queryArgs, result))

  if (call.transaction !== undefined) {
    let result: unknown
    try {
      result = await call.query(queryArgs)
    } catch (error) {
      await inTransaction(ctx, call, effectsOf(undefined))
      throw error
    }
    await inTransaction(ctx, call, effectsOf(result))
    return result
  }

  const plan = ctx.options.writeThrough ? fillPlan(ctx, model, call.operation, queryArgs) : undefined
  let intent: WriteIntent | undefined
  if (plan !== undefined) {
    try {
      intent = await ctx.cache.beginWrite(plan.tags)
    } catch (error) {
      ctx.report(error, 'write-through')
    }
  }
  let result: unknown
  try {
    result = await call.query(queryArgs)
  } catch (error) {
    // The write may have reached the database before failing (a lost connection after
    // commit); invalidating costs a few misses, skipping it could leave stale entries.
    if (!isValidationError(error)) await apply(ctx, call, effectsOf(undefined), undefined)
    throw error
  }
  const effects = effectsOf(result)
  let fill: { key: string; value: unknown; ttl?: number } | undefined
  if (plan !== undefined && intent !== undefined) {
    const key = keyFromRow(model, result)
    if (key !== undefined && keyRowTag(model, key) === plan.rowTag) {
      fill = { key: plan.lookupKey, value: result, ...(plan.ttl === undefined ? {} : { ttl: plan.ttl }) }
    }
  }
  await apply(ctx, call, effects, intent === undefined ? undefined : { intent, fill })
  return result
}

/** $executeRaw and friends: target tables from the SQL text, everything when unparseable. */
export async function rawOperation(ctx: ExtensionContext, call: OperationCall): Promise<unknown> {
  const statement = rawStatement(call.args)
  const effects = safely(ctx, () =>
    statement === undefined
      ? { tags: new Set<string>(), everything: true, reads: [], writes: true }
      : rawEffects(ctx.dataModel, ctx.dialect, statement.sql),
  )
  const writes = !('writes' in effects) || effects.writes || effects.everything
  if (!writes) return call.query(call.args)

  if (call.transaction !== undefined) {
    try {
      return await call.query(call.args)
    } finally {
      await inTransaction(ctx, call, effects)
    }
  }
  try {
    return await call.query(call.args)
  } finally {
    await apply(ctx, call, effects, undefined)
  }
}

export function isRawOperation(operation: string): boolean {
  return RAW_OPERATIONS.has(operation)
}

/** Applies a transaction's buffered invalidations at its commit. */
export async function applyCommitted(
  ctx: ExtensionContext,
  tags: string[],
  everything: boolean,
): Promise<void> {
  if (tags.length === 0 && !everything) return
  await ctx.wrote({ model: undefined, operation: '$transaction', tags, everything, transaction: true })
  await invalidate(ctx, tags, everything)
}

async function inTransaction(
  ctx: ExtensionContext,
  call: OperationCall,
  effects: WriteEffects,
): Promise<void> {
  const buffer = ctx.tracker.bufferFor(call.transaction!)
  if (buffer !== undefined) {
    buffer.add(effects.tags)
    if (effects.everything) buffer.addEverything()
    return
  }
  // A transaction that did not start through this client's $transaction: a batch has committed
  // by the time its queries resolve; an interactive one has not, so bump now and once more later.
  await apply(ctx, call, effects, undefined)
  if (call.transaction?.kind === 'itx') {
    const timer = setTimeout(() => {
      void invalidate(ctx, [...effects.tags], effects.everything)
    }, UNTRACKED_TRANSACTION_GRACE_MS)
    timer.unref?.()
  }
}

async function apply(
  ctx: ExtensionContext,
  call: OperationCall,
  effects: WriteEffects,
  writeThrough:
    | { intent: WriteIntent; fill: { key: string; value: unknown; ttl?: number } | undefined }
    | undefined,
): Promise<void> {
  const tags = [...effects.tags]
  await ctx.wrote({
    model: call.model,
    operation: call.operation,
    tags,
    everything: effects.everything,
    transaction: false,
  })
  if (writeThrough === undefined) {
    await invalidate(ctx, tags, effects.everything)
    return
  }
  try {
    await writeThrough.intent.commit({
      invalidate: tags,
      everything: effects.everything,
      ...(writeThrough.fill === undefined ? {} : { fill: writeThrough.fill }),
    })
  } catch (error) {
    ctx.report(error, 'write-through')
    await invalidate(ctx, tags, effects.everything)
  }
}

async function invalidate(ctx: ExtensionContext, tags: string[], everything: boolean): Promise<void> {
  try {
    if (everything) await ctx.cache.clear()
    if (tags.length > 0) await ctx.cache.invalidateTags(tags)
  } catch (error) {
    ctx.report(error, 'invalidate')
  }
}

/**
 * Write-through applies to create / update / upsert of one row named by primary key before the
 * write (so its version can be snapshot first), with the default selection (so the returned row
 * is exactly what `findUnique({ where: key })` returns).
 */
function fillPlan(
  ctx: ExtensionContext,
  model: ModelInfo,
  operation: string,
  args: Record<string, unknown>,
): FillPlan | undefined {
  if (operation !== 'create' && operation !== 'update' && operation !== 'upsert') return undefined
  if (args.select !== undefined || args.include !== undefined || args.omit !== undefined) return undefined
  const settings = ctx.settingsFor(model.name)
  if (settings === false || model.primaryKey === undefined) return undefined
  try {
    const key = operation === 'create' ? keyFromWhere(model, args.data) : keyFromWhere(model, args.where)
    if (key === undefined) return undefined
    if (operation !== 'create' && writesKey(model, operation === 'upsert' ? args.update : args.data)) {
      return undefined
    }
    const lookupArgs = { where: keyWhere(model, key) }
    const { tags } = readDependencies(ctx.dataModel, model, 'findUnique', lookupArgs)
    return {
      rowTag: keyRowTag(model, key),
      lookupKey: queryKey({
        model: model.name,
        operation: 'findUnique',
        args: lookupArgs,
        dataPath: [],
        context: ctx.keyContext(),
      }),
      tags,
      ttl: settings.ttl ?? ctx.options.ttl,
    }
  } catch (error) {
    ctx.report(error, 'write-through')
    return undefined
  }
}

/** Effects computed defensively: if the analysis itself fails, invalidate everything. */
function safely<T extends WriteEffects>(ctx: ExtensionContext, compute: () => T): T | WriteEffects {
  try {
    return compute()
  } catch (error) {
    ctx.report(error, 'analyze-write')
    return { tags: new Set(), everything: true }
  }
}

function isValidationError(error: unknown): boolean {
  return error instanceof Error && error.name === 'PrismaClientValidationError'
}
