import 'reflect-metadata'
import { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { preciseRead } from '../src/read-deps/precise-reads.js'
import { SchemaIndex } from '../src/schema/entity-schema.js'
import { defineEntities } from './support/entities.js'

/** After-load tags of a list with a LEFT-JOINed relation, where each parent repeats per child. */
describe('precise list tags', () => {
  let ds: DataSource
  let schema: SchemaIndex
  beforeAll(async () => {
    ds = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: defineEntities('sqlite').all,
    })
    await ds.initialize()
    schema = new SchemaIndex(ds.entityMetadatas)
  })
  afterAll(() => ds.destroy())

  const sql =
    'SELECT "U"."id" AS "U_id", "U"."name" AS "U_name", "P"."id" AS "P_id", "P"."authorId" AS "P_authorId" ' +
    'FROM "app_users" "U" LEFT JOIN "app_posts" "P" ON "P"."authorId"="U"."id" ' +
    'WHERE "U"."id" = $1 OR "U"."id" = $2 OR "U"."id" = $3'

  it('names every parent, child and parent value once, whatever the repetition', () => {
    const read = preciseRead(sql, [1, 2, 3], 'postgres', schema)
    expect(read).toBeDefined()
    const rows = [
      { U_id: 1, U_name: 'a', P_id: 10, P_authorId: 1 },
      { U_id: 1, U_name: 'a', P_id: 11, P_authorId: 1 },
      { U_id: 2, U_name: 'b', P_id: null, P_authorId: null },
      { U_id: 3, U_name: 'c', P_id: 12, P_authorId: 3 },
      { U_id: 3, U_name: 'c', P_id: 13, P_authorId: 3 },
    ]
    expect([...read!.afterLoad!.tags(rows)].sort()).toEqual(
      [
        'r:app_users:1',
        'r:app_users:2',
        'r:app_users:3',
        'v:app_posts:authorid=1',
        'v:app_posts:authorid=2',
        'v:app_posts:authorid=3',
        'r:app_posts:10',
        'r:app_posts:11',
        'r:app_posts:12',
        'r:app_posts:13',
      ].sort(),
    )
  })

  it('still checks every repeated row: a bad child key next to a repeated parent fails the fill', () => {
    const read = preciseRead(sql, [1, 2, 3], 'postgres', schema)
    expect(read).toBeDefined()
    const rows = [
      { U_id: 1, U_name: 'a', P_id: 10, P_authorId: 1 },
      { U_id: 1, U_name: 'a', P_id: 1.5, P_authorId: 1 },
    ]
    expect(() => read!.afterLoad!.tags(rows)).toThrow()
  })

  describe("on member tags (listTags: 'members')", () => {
    it('the root depends on member tags before the load; children on their parents’ values after it', () => {
      const read = preciseRead(sql, [1, 2, 3], 'postgres', schema, true)!
      expect(read.tags).toEqual(
        expect.arrayContaining([
          'm:app_users:id=1',
          'm:app_users:id=2',
          'm:app_users:id=3',
          'l:app_users:id',
          'u:app_users',
          'l:app_posts:authorid',
          'u:app_posts',
        ]),
      )
      expect(read.afterLoad!.tables).toEqual(['app_posts'])
      const rows = [
        { U_id: 1, U_name: 'a', P_id: 10, P_authorId: 1 },
        { U_id: 2, U_name: 'b', P_id: null, P_authorId: null },
      ]
      expect([...read.afterLoad!.tags(rows)].sort()).toEqual(
        [
          'v:app_posts:authorid=1',
          'm:app_posts:authorid=1',
          'v:app_posts:authorid=2',
          'm:app_posts:authorid=2',
        ].sort(),
      )
    })

    it('a list that joins nothing has no after-load phase at all', () => {
      const read = preciseRead(
        'SELECT "U"."id" AS "U_id" FROM "app_users" "U" WHERE "U"."id" = $1',
        [4],
        'postgres',
        schema,
        true,
      )!
      expect(read.afterLoad).toBeUndefined()
      expect(read.tags).toContain('m:app_users:id=4')
      expect(read.tags.filter((tag) => tag.startsWith('r:'))).toEqual([])
    })
  })
})
