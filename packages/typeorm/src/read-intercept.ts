import type { QueryRunner } from 'typeorm'

/** TypeORM's structured query result, as `loadRawResults` consumes it. */
export interface StructuredResult {
  records: unknown[]
  raw: unknown
  affected?: number
}

type QueryFn = (sql: string, parameters?: unknown[], useStructuredResult?: boolean) => Promise<unknown>

/** A cacheable read announced by `getFromCache`, waiting for TypeORM to execute it. */
export interface PendingRead {
  /** TypeORM's query id: the SQL, " -- PARAMETERS: ", then the JSON of the parameters. */
  queryId: string
  /** Runs the statement through the cache; `execute` runs it on the database. */
  run(sql: string, parameters: unknown[], execute: () => Promise<StructuredResult>): Promise<StructuredResult>
}

const pending = new WeakMap<QueryRunner, PendingRead[]>()

/**
 * TypeORM's cache API asks the provider for a value, runs the query itself, then hands the
 * provider a JSON string to store. That order cannot be made safe (the version snapshot must be
 * taken before the query runs) nor exact (JSON loses Dates, Buffers and bigints). So
 * `getFromCache` reports a miss and announces the read here; when TypeORM then executes that
 * statement on the same QueryRunner, the statement runs inside the cache's cache-aside wrap
 * instead: snapshot, single flight, fill, or a hit without touching the database.
 */
export function announceRead(runner: QueryRunner, read: PendingRead): void {
  let list = pending.get(runner)
  if (list === undefined) {
    list = []
    pending.set(runner, list)
    interceptQueries(runner, list)
  }
  list.push(read)
}

/** Forgets an announced read that TypeORM did not execute (storeInCache follows every execution). */
export function forgetRead(runner: QueryRunner, queryId: string): void {
  const list = pending.get(runner)
  if (list === undefined) return
  const at = list.findIndex((read) => read.queryId === queryId)
  if (at !== -1) list.splice(at, 1)
}

function interceptQueries(runner: QueryRunner, list: PendingRead[]): void {
  const original = runner.query as QueryFn
  const intercepted: QueryFn = function (this: QueryRunner, sql, parameters, useStructuredResult) {
    if (list.length > 0) {
      const params = parameters ?? []
      const id = queryIdOf(sql, params)
      const at = id === undefined ? -1 : list.findIndex((read) => read.queryId === id)
      if (at !== -1) {
        const [read] = list.splice(at, 1)
        const execute = () => original.call(runner, sql, parameters, true) as Promise<StructuredResult>
        return read!.run(sql, params, execute).then((result) => (useStructuredResult ? result : result.raw))
      }
    }
    return original.call(this ?? runner, sql, parameters, useStructuredResult)
  }
  ;(runner as { query: QueryFn }).query = intercepted
}

/** The id TypeORM's SelectQueryBuilder gives a query (bigints written as their digits). */
export function queryIdOf(sql: string, parameters: readonly unknown[]): string | undefined {
  try {
    // The replacer only changes bigints; flat parameters without one (the common case) give the
    // same text without a callback per value.
    const json = flatWithoutBigint(parameters)
      ? JSON.stringify(parameters)
      : JSON.stringify(parameters, (_, value) => (typeof value === 'bigint' ? value.toString() : value))
    return `${sql} -- PARAMETERS: ${json}`
  } catch {
    return undefined
  }
}

function flatWithoutBigint(parameters: readonly unknown[]): boolean {
  for (let i = 0; i < parameters.length; i++) {
    const type = typeof parameters[i]
    if (type !== 'string' && type !== 'number' && type !== 'boolean' && parameters[i] !== null) return false
  }
  return true
}
