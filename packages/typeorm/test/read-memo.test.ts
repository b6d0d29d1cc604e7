import 'reflect-metadata'
import { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDependencies } from '../src/read-deps/read-deps.js'
import { queryIdOf } from '../src/read-intercept.js'
import { ReadMemo } from '../src/read-memo.js'
import { SchemaIndex } from '../src/schema/entity-schema.js'
import { ReadVerdicts } from '../src/sql/read-safety.js'
import { defineEntities } from './support/entities.js'

/** The per-text and per-key memo of the read analysis (issue #12): same answers, computed once. */
describe('read memo', () => {
  let ds: DataSource
  const noViews = new Map<string, string[]>()
  const LOOKUP =
    'SELECT "U"."id" AS "U_id" FROM "app_users" "U" WHERE ( (("U"."id" = $1)) ) AND ( "U"."deletedAt" IS NULL ) LIMIT 1'
  const LIST =
    'SELECT "U"."id" AS "U_id", "P"."id" AS "P_id" FROM "app_users" "U" LEFT JOIN "app_posts" "P" ON "P"."authorId" = "U"."id" WHERE "U"."id" = $1'
  const memoOf = (source: DataSource) =>
    new ReadMemo(source, 'postgres', new ReadVerdicts('postgres', { volatileFunctions: [] }), noViews)

  beforeAll(async () => {
    ds = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: defineEntities('sqlite').all,
    })
    await ds.initialize()
  })
  afterAll(() => ds.destroy())

  it('gives the dependencies a fresh analysis gives, and remembers them per key', () => {
    const memo = memoOf(ds)
    const schema = new SchemaIndex(ds.entityMetadatas)
    for (const [sql, params] of [
      [LOOKUP, [3]],
      [LOOKUP, [4]],
      [LIST, [3]],
    ] as const) {
      const first = memo.shape('scope', sql, params)
      expect(first.dependencies.tags).toEqual(readDependencies(sql, params, 'postgres', schema, noViews).tags)
      expect(memo.shape('scope', sql, [...params])).toBe(first)
    }
    expect(memo.shape('scope', LOOKUP, [3]).dependencies.tags).toEqual(['b:app_users', 'r:app_users:3'])
    expect(memo.shape('scope', LOOKUP, [4]).dependencies.tags).toEqual(['b:app_users', 'r:app_users:4'])
    expect(Object.isFrozen(memo.shape('scope', LOOKUP, [3]).dependencies.tags)).toBe(true)
  })

  it('keys by scope, text and typed parameters, never by the SQL text itself', () => {
    const memo = memoOf(ds)
    const keys = [
      memo.shape('scope', LOOKUP, [3]).key,
      memo.shape('scope', LOOKUP, ['3']).key,
      memo.shape('scope', LOOKUP, [3n]).key,
      memo.shape('scope', LOOKUP, [4]).key,
      memo.shape('other', LOOKUP, [3]).key,
      memo.shape('scope', `${LOOKUP} `, [3]).key,
    ]
    expect(new Set(keys).size).toBe(keys.length)
    for (const key of keys) {
      expect(key).toMatch(/^typeorm:app_users:[A-Za-z0-9_-]{43}:/)
      expect(key).not.toMatch(/SELECT|FROM|WHERE/)
    }
    // A second memo (another process) builds the same keys: entries are shared across processes.
    expect(memoOf(ds).shape('scope', LOOKUP, [3]).key).toBe(keys[0])
  })

  it('remembers nothing before the DataSource is initialized (its schema may still change)', () => {
    const pending = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: defineEntities('sqlite').all,
    })
    const memo = memoOf(pending)
    expect(memo.shape('scope', LOOKUP, [3])).not.toBe(memo.shape('scope', LOOKUP, [3]))
  })

  it("builds TypeORM's query id the same way with and without bigints", () => {
    const replacer = (_: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)
    for (const params of [[], [1, 'a', true, null], [1n, 2], [[1n]], [{ a: 1 }], [undefined]]) {
      expect(queryIdOf('SELECT 1', params)).toBe(
        `SELECT 1 -- PARAMETERS: ${JSON.stringify(params, replacer)}`,
      )
    }
  })
})
