import 'reflect-metadata'
import { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDependencies } from '../src/read-deps/read-deps.js'
import { SchemaIndex } from '../src/schema/entity-schema.js'
import { writeEffect } from '../src/write-effects/write-effects.js'
import { defineEntities } from './support/entities.js'

/** Count statements and the column-left tags of writes, on their own (docs/design.md, "Counts"). */
describe('count analysis', () => {
  let ds: DataSource
  let schema: SchemaIndex
  const noViews = new Map<string, string[]>()
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

  const deps = (sql: string, params: unknown[] = [], dialect: 'postgres' | 'mysql' = 'postgres') =>
    readDependencies(sql, params, dialect, schema, noViews).tags.sort()
  const precise = ['a:app_posts:authorid', 'b:app_posts', 'l:app_posts:authorid', 'v:app_posts:authorid=7']

  it('a count of the rows pinned values match depends on the pins and the column-left tag', () => {
    expect(
      deps('SELECT COUNT(1) AS "cnt" FROM "app_posts" "Post" WHERE (("Post"."authorId" = $1))', [7]),
    ).toEqual(precise)
    expect(deps('SELECT COUNT(*) AS cnt FROM app_posts p WHERE p.authorId IN ($1)', [7])).toEqual(precise)
    expect(
      deps(
        'SELECT COUNT(DISTINCT("Post"."id")) AS "cnt" FROM "app_posts" "Post" LEFT JOIN "app_categories" "c" ON "c"."id"="Post"."categoryId" WHERE "Post"."authorId" = $1',
        [7],
      ),
    ).toEqual(precise)
    expect(
      deps(
        'SELECT COUNT(DISTINCT `Post`.`id`) AS `cnt` FROM `app_posts` `Post` WHERE `Post`.`authorId` = ?',
        [7],
        'mysql',
      ),
    ).toEqual(precise)
  })

  it('keeps the table tag for counts that are not of the pinned rows', () => {
    const coarse = (sql: string, params: unknown[] = [7]) =>
      expect(deps(sql, params), sql).toContain('t:app_posts')
    // A count of distinct values of another column reads values, not the set.
    coarse('SELECT COUNT(DISTINCT("p"."likes")) AS "cnt" FROM "app_posts" "p" WHERE "p"."authorId" = $1')
    // Rows repeated by a join, or dropped by an inner join.
    coarse(
      'SELECT COUNT(1) AS "cnt" FROM "app_posts" "p" LEFT JOIN "app_tags" "t" ON "t"."id" = "p"."id" WHERE "p"."authorId" = $1',
    )
    coarse(
      'SELECT COUNT(DISTINCT("p"."id")) AS "cnt" FROM "app_posts" "p" INNER JOIN "app_users" "u" ON "u"."id" = "p"."authorId" WHERE "p"."authorId" = $1',
    )
    // A filter that is not only pins, a pin of a joined table, no filter, paging.
    coarse(
      'SELECT COUNT(1) AS "cnt" FROM "app_posts" "p" WHERE "p"."authorId" = $1 AND "p"."title" LIKE \'a%\'',
    )
    coarse(
      'SELECT COUNT(DISTINCT("p"."id")) AS "cnt" FROM "app_posts" "p" LEFT JOIN "app_users" "u" ON "u"."id" = "p"."authorId" WHERE "u"."id" = $1',
    )
    coarse('SELECT COUNT(1) AS "cnt" FROM "app_posts" "p"', [])
    coarse('SELECT COUNT(1) AS "cnt" FROM "app_posts" "p" WHERE "p"."authorId" = $1 LIMIT 1')
  })

  const left = (sql: string, params: unknown[] = []) =>
    writeEffect(sql, params, undefined, 'postgres', schema)
      ?.tags.filter((t) => t.startsWith('l:'))
      .sort()

  it('known-row updates bump the column-left tag of the columns they set, deletes of every column', () => {
    expect(left('UPDATE "app_posts" SET "authorId" = $1 WHERE "id" = $2', [4, 7])).toEqual([
      'l:app_posts:authorid',
    ])
    expect(left('UPDATE "app_posts" SET "likes" = "likes" + 1 WHERE "id" = $1', [7])).toEqual([
      'l:app_posts:likes',
    ])
    const all = left('DELETE FROM "app_posts" WHERE "id" = $1', [7])
    expect(all).toContain('l:app_posts:authorid')
    expect(all).toContain('l:app_posts:likes')
    // Inserts move no row away from a value; bulk writes bump b: instead.
    expect(left('INSERT INTO "app_posts" ("title", "authorId") VALUES ($1, $2)', ['t', 4])).toEqual([])
    const bulk = writeEffect('DELETE FROM "app_posts" WHERE "likes" > 2', [], undefined, 'postgres', schema)!
    expect(bulk.tags).toContain('b:app_posts')
  })
})
