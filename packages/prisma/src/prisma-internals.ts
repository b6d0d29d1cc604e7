import { InvalidOptionError } from '@ormcache/core'
import type { RuntimeDataModelLike } from './schema/data-model.js'

/**
 * The few Prisma Client internals the extension reads, in one place. They have been stable since
 * Prisma 5 (the client extension runtime); a client without them fails loudly at `$extends` time
 * rather than caching with a wrong picture of the schema.
 */
export interface ClientInternals {
  runtimeDataModel: RuntimeDataModelLike
  /** The schema text the client was generated from (ids, relation arguments, list markers). */
  schema: string | undefined
  provider: string | undefined
  /** `new PrismaClient({ omit })`: changes every result shape, so it is part of every key. */
  globalOmit: unknown
  /** The client's own `$transaction`, called with the extended client as `this`. */
  transaction: (this: unknown, input: unknown, options?: unknown) => Promise<unknown>
}

/** What `$allOperations` receives besides the documented fields. */
export interface InternalParams {
  transaction?: { kind?: string; id?: unknown }
  dataPath?: readonly string[]
}

/** Prisma stores an interactive transaction's id on the transaction client under this symbol. */
const TX_SCOPE_CONTEXT = Symbol.for('prisma.client.transaction.scope_context')

export function readClientInternals(client: unknown): ClientInternals {
  if (typeof client !== 'object' || client === null) {
    throw new InvalidOptionError('client', 'cacheExtension must be passed to PrismaClient.$extends')
  }
  const c = client as Record<string, unknown>
  const runtimeDataModel = c._runtimeDataModel as RuntimeDataModelLike | undefined
  if (typeof runtimeDataModel !== 'object' || runtimeDataModel === null || !runtimeDataModel.models) {
    throw new InvalidOptionError('client', 'is not a Prisma Client (no runtime data model found)')
  }
  const engineConfig = c._engineConfig as { inlineSchema?: unknown; activeProvider?: unknown } | undefined
  const schema = typeof engineConfig?.inlineSchema === 'string' ? engineConfig.inlineSchema : undefined
  const describesRelations = Object.values(runtimeDataModel.models).every((model) =>
    model.fields.every((field) => field.kind !== 'object' || field.isList !== undefined),
  )
  if (schema === undefined && !describesRelations) {
    throw new InvalidOptionError(
      'client',
      'carries neither its schema text nor relation metadata; cannot derive cache dependencies',
    )
  }
  const original = c._originalClient as Record<string, unknown> | undefined
  const transaction = original?.$transaction
  if (typeof transaction !== 'function') {
    throw new InvalidOptionError('client', 'has no $transaction method to wrap')
  }
  const provider = c._activeProvider ?? engineConfig?.activeProvider
  return {
    runtimeDataModel,
    schema,
    provider: typeof provider === 'string' ? provider : undefined,
    globalOmit: c._globalOmit,
    transaction: transaction as ClientInternals['transaction'],
  }
}

/** `post` for model `Post`: the client property, under which Prisma also files the model's query hooks. */
export function clientProperty(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1)
}

/**
 * Whether a query extension of `client` hooks `operation` of `model`, read from the merged list of
 * extensions Prisma itself runs every call through (`_extensions.getAllQueryCallbacks`, keyed by
 * the client property). True when the client does not expose it or it fails: the caller then
 * assumes a hook, the safe direction (it leaves the read to Prisma as it is).
 */
export function queryHooked(client: unknown, model: string, operation: string): boolean {
  if (typeof client !== 'object' || client === null) return true
  try {
    const extensions = (client as { _extensions?: { getAllQueryCallbacks?: unknown } })._extensions
    const hooks = extensions?.getAllQueryCallbacks
    if (typeof hooks !== 'function') return true
    const found = (hooks as (model: string, operation: string) => unknown).call(
      extensions,
      clientProperty(model),
      operation,
    )
    return !Array.isArray(found) || found.length > 0
  } catch {
    return true
  }
}

export function internalParams(params: unknown): InternalParams | undefined {
  const internal = (params as { __internalParams?: unknown }).__internalParams
  return typeof internal === 'object' && internal !== null ? (internal as InternalParams) : undefined
}

/** The interactive transaction id of a transaction client, when Prisma exposes it (7.x). */
export function transactionClientId(client: unknown): unknown {
  if (typeof client !== 'object' || client === null) return undefined
  try {
    const context = (client as Record<symbol, unknown>)[TX_SCOPE_CONTEXT] as { txId?: unknown } | undefined
    return typeof context === 'object' && context !== null ? context.txId : undefined
  } catch {
    return undefined
  }
}
