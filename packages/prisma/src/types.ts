import type { Cache } from '@ormcache/core'
import type {
  Args,
  Exact,
  GetResult,
  InternalArgs,
  Operation,
  OperationPayload,
  Path,
  PrismaPromise,
  Result,
  Sql,
} from '@prisma/client/runtime/client'
import type { QueryCacheOption } from './options.js'

/** The `cache` argument every read accepts. */
export interface CacheArgs {
  cache?: QueryCacheOption
}

/** The generated types a Prisma model delegate carries (payload and operations). */
export type ModelTypes<T> = T extends { [K: symbol]: { types: { payload: unknown; operations: unknown } } }
  ? T[symbol]['types']
  : never
/** A model delegate's payload: its scalars and relations. */
export type PayloadOf<T> = ModelTypes<T>['payload'] extends OperationPayload
  ? ModelTypes<T>['payload']
  : never
/** The `select` argument type of operation `P` on a model delegate. */
export type SelectArg<T, P extends Operation> = Path<ModelTypes<T>['operations'], [P, 'args', 'select']>
/** The model at the other end of a relation field (to-one or to-many). */
export type Related<X> = X extends readonly (infer E)[] ? E : Exclude<X, null>
/** The `select` of a relation argument, for the next step of a fluent chain. */
export type SelectOf<X> = X extends { select?: infer S } ? S : never

/** Prisma's fluent API (`findUnique(…).posts()`), kept on the cached read methods. */
export type Fluent<Payload extends OperationPayload, Select, P extends Operation, Null> = {
  [K in keyof Payload['objects'] & string]: <A>(
    args?: Exact<A, Path<Select, [K]>>,
  ) => PrismaPromise<Path<GetResult<Payload, { select: { [Q in K]: A } }, P>, [K]> | Null> &
    (Related<Payload['objects'][K]> extends OperationPayload
      ? Fluent<
          Related<Payload['objects'][K]>,
          SelectOf<Path<Select, [K]>>,
          P,
          Null | (null extends Payload['objects'][K] ? null : never)
        >
      : unknown)
}

/** A cached read's result: Prisma's promise, with the fluent relation methods of the model. */
export type FluentRead<T, A, P extends Operation, Null> = PrismaPromise<Result<T, A, P>> &
  Fluent<PayloadOf<T>, SelectArg<T, P>, P, Null>

/**
 * The read methods with `cache` in their arguments. At runtime they are Prisma's own methods; the
 * extension removes `cache` before Prisma validates the arguments.
 */
export interface CacheModelMethods {
  findUnique<T, A>(
    this: T,
    args: Exact<A, Args<T, 'findUnique'> & CacheArgs>,
  ): FluentRead<T, A, 'findUnique', null>
  findUniqueOrThrow<T, A>(
    this: T,
    args: Exact<A, Args<T, 'findUniqueOrThrow'> & CacheArgs>,
  ): FluentRead<T, A, 'findUniqueOrThrow', never>
  findFirst<T, A>(
    this: T,
    args?: Exact<A, Args<T, 'findFirst'> & CacheArgs>,
  ): FluentRead<T, A, 'findFirst', null>
  findFirstOrThrow<T, A>(
    this: T,
    args?: Exact<A, Args<T, 'findFirstOrThrow'> & CacheArgs>,
  ): FluentRead<T, A, 'findFirstOrThrow', never>
  findMany<T, A>(
    this: T,
    args?: Exact<A, Args<T, 'findMany'> & CacheArgs>,
  ): PrismaPromise<Result<T, A, 'findMany'>>
  count<T, A>(this: T, args?: Exact<A, Args<T, 'count'> & CacheArgs>): PrismaPromise<Result<T, A, 'count'>>
  aggregate<T, A>(
    this: T,
    args: Exact<A, Args<T, 'aggregate'> & CacheArgs>,
  ): PrismaPromise<Result<T, A, 'aggregate'>>
  groupBy<T, A>(
    this: T,
    args: Exact<A, Args<T, 'groupBy'> & CacheArgs>,
  ): PrismaPromise<Result<T, A, 'groupBy'>>
}

/** Options of `prisma.$queryRawCached`: raw results are cached only with declared dependencies. */
export interface RawCacheOptions {
  /** Tags the result depends on (at least one of `tags` / `tables`). */
  tags?: readonly string[]
  /** Tables the result depends on; tables named in the SQL text are added automatically. */
  tables?: readonly string[]
  ttl?: number
  key?: string
  /**
   * Cache a statement that calls a volatile function (now(), random(), nextval(), …) anyway: its
   * result is then frozen until `ttl`, which no write can shorten. Without it such a statement is
   * refused with `UncacheableQueryError` (code ERR_UNCACHEABLE_QUERY).
   */
  volatile?: boolean
}

export interface CacheClientMethods {
  /** The cache behind the extension: `prisma.$cache.invalidateTags(['feed'])`, `stats()`, … */
  $cache: Cache
  /**
   * `$queryRaw` through the cache, depending on `tags` / `tables` (and tables in the SQL).
   * Rejects with `UncacheableQueryError` (ERR_UNCACHEABLE_QUERY), before running anything, a
   * statement that writes (data-modifying CTE, SELECT … INTO), locks rows, is not a plain read,
   * or calls a volatile function without `volatile: true`.
   */
  $queryRawCached<R = unknown>(query: Sql, options: RawCacheOptions): Promise<R>
}

export type CacheExtensionArgs = InternalArgs<
  // biome-ignore lint/complexity/noBannedTypes: Prisma's "no result extensions" is `{}`
  {},
  { $allModels: CacheModelMethods },
  // biome-ignore lint/complexity/noBannedTypes: no query extensions in the public type
  {},
  CacheClientMethods
>

/**
 * What `cacheExtension()` returns: pass it to `prisma.$extends`. `ModelName` is every key of the
 * `models` option; the client it extends must have a delegate for each (`User` → `prisma.user`),
 * so `models: { Nope: false }` fails to type-check at `$extends` instead of at run time.
 */
export type CacheExtension<ModelName extends string = string> = (client: ClientWithModels<ModelName>) => {
  $extends: { extArgs: CacheExtensionArgs }
}

/** A Prisma client that has a model delegate for each name (`User` or `user` → `user`). */
export type ClientWithModels<ModelName extends string> = string extends ModelName
  ? unknown
  : { [Name in ModelName as Uncapitalize<Name>]: object }
