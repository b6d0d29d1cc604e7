import 'reflect-metadata'
import { DataSource } from 'typeorm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDependencies } from '../src/read-deps/read-deps.js'
import { SchemaIndex } from '../src/schema/entity-schema.js'
import { statementShape } from '../src/sql/statements.js'
import { entityWriteTags } from '../src/write-effects/event-tags.js'
import { writeEffect } from '../src/write-effects/write-effects.js'
import { defineEntities } from './support/entities.js'

/** The statement analysis on its own, on SQL forms TypeORM and people write. */
describe('statement analysis', () => {
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

  // Column-value and column-any tags are asserted on their own below, column-left tags in
  // count-shapes.test.ts, unnamed-member tags in "an update of known rows names none of the
  // values they kept".
  const pg = (sql: string, params: unknown[] = [], raw?: unknown) =>
    writeEffect(sql, params, raw, 'postgres', schema)
      ?.tags.filter(
        (t) => !t.startsWith('a:') && !t.startsWith('v:') && !t.startsWith('l:') && !t.startsWith('u:'),
      )
      .sort()
  const my = (sql: string, params: unknown[] = [], raw?: unknown) =>
    writeEffect(sql, params, raw, 'mysql', schema)
      ?.tags.filter(
        (t) => !t.startsWith('a:') && !t.startsWith('v:') && !t.startsWith('l:') && !t.startsWith('u:'),
      )
      .sort()
  const valueTags = (sql: string, params: unknown[] = [], raw?: unknown, dialect = 'postgres' as const) =>
    writeEffect(sql, params, raw, dialect, schema)
      ?.tags.filter((t) => t.startsWith('a:') || t.startsWith('v:'))
      .sort()

  it('bumps the column-value tags of the values a known-row write sets (lists pinned to them)', () => {
    // Text columns are not pinnable: column-any (another ORM might pin them).
    expect(valueTags('UPDATE "app_users" SET "name" = $1 WHERE "id" = $2', ['x', 7])).toEqual([
      'a:app_users:name',
    ])
    expect(valueTags('UPDATE "app_posts" SET "authorId" = $1, "likes" = 3 WHERE "id" = $2', [4, 7])).toEqual([
      'v:app_posts:authorid=4',
      'v:app_posts:likes=3',
    ])
    // Expressions, NULL, DEFAULT and values the database would coerce cannot be named.
    expect(
      valueTags('UPDATE "app_posts" SET "likes" = "likes" + 1, "authorId" = $1 WHERE "id" = $2', [2.5, 7]),
    ).toEqual(['a:app_posts:authorid', 'a:app_posts:likes'])
    expect(
      valueTags('UPDATE "app_posts" SET "authorId" = $1, "likes" = DEFAULT WHERE "id" = $2', ['05', 7]),
    ).toEqual(['a:app_posts:authorid', 'a:app_posts:likes'])
    expect(valueTags('UPDATE "app_posts" SET "authorId" = NULL WHERE "id" = $1', [7])).toEqual([
      'a:app_posts:authorid',
    ])
    // Inserts: bound values, the exact keys, and column-any for what the statement leaves out.
    const insert = valueTags(
      'INSERT INTO "app_posts"("id", "title", "likes", "authorId") VALUES (DEFAULT, $1, DEFAULT, $2) RETURNING "id"',
      ['t', '12'],
      { command: 'INSERT', rowCount: 1, rows: [{ id: 40 }] },
    )
    expect(insert).toContain('v:app_posts:id=40')
    expect(insert).toContain('v:app_posts:authorid=12')
    expect(insert).toContain('a:app_posts:likes')
    expect(insert).toContain('a:app_posts:title')
    expect(insert).not.toContain('a:app_posts:authorid')
    expect(insert).not.toContain('a:app_posts:id')
    // A column the INSERT does not name takes its default: column-any.
    expect(valueTags('INSERT INTO "app_posts"("id", "title") VALUES ($1, $2)', [5, 't'])).toContain(
      'a:app_posts:authorid',
    )
    expect(valueTags('DELETE FROM "app_users" WHERE "id" = $1', [7])).toEqual([])
  })
  const read = (sql: string, params: unknown[] = []) =>
    readDependencies(sql, params, 'postgres', schema, noViews).tags

  it('an update of known rows names none of the values they kept: the unnamed-member tag', () => {
    const tags = (sql: string, params: unknown[]) =>
      writeEffect(sql, params, undefined, 'postgres', schema)?.tags
    expect(tags('UPDATE "app_users" SET "name" = $1 WHERE "id" = $2', ['x', 7])).toContain('u:app_users')
    expect(tags('DELETE FROM "app_users" WHERE "id" = $1', [7])).not.toContain('u:app_users')
    expect(tags('INSERT INTO "app_users" ("id", "name") VALUES ($1, $2)', [7, 'x'])).not.toContain(
      'u:app_users',
    )
    // Rows it cannot name: the bulk tag, which every list depending on member tags holds too.
    expect(tags('UPDATE "app_users" SET "name" = $1 WHERE "name" = $2', ['x', 'y'])).toContain('b:app_users')
  })

  it('an entity event that changes a known row names none of its kept values either', () => {
    const metadata = ds.entityMetadatas.find((m) => m.tableName === 'app_users')!
    const event = { metadata, databaseEntity: { id: 7 }, entity: { id: 7, name: 'x' } }
    expect(entityWriteTags('update', event, schema)).toEqual(
      expect.arrayContaining(['r:app_users:7', 'u:app_users']),
    )
    expect(entityWriteTags('softRemove', event, schema)).toContain('u:app_users')
    expect(entityWriteTags('remove', event, schema)).not.toContain('u:app_users')
    expect(entityWriteTags('insert', { metadata, entity: { id: 8 } }, schema)).not.toContain('u:app_users')
  })

  it('names the rows of updates and deletes by primary key', () => {
    expect(pg('UPDATE "app_users" SET "name" = $1 WHERE "id" = $2', ['x', 7])).toEqual([
      'r:app_users:7',
      't:app_users',
    ])
    expect(
      pg(
        'UPDATE "app_users" SET "deletedAt" = CURRENT_TIMESTAMP WHERE "id" = $1 AND "deletedAt" IS NULL',
        [7],
      ),
    ).toEqual(['r:app_users:7', 't:app_users'])
    expect(pg('DELETE FROM "app_users" WHERE "id" IN ($1, $2)', [1, '2'])).toContain('r:app_users:2')
    expect(
      my(
        'DELETE FROM `app_post_tags` WHERE (`appPostsId` = ? AND `appTagsId` = ?) OR (`appPostsId` = ? AND `appTagsId` = ?)',
        [1, 2, 3, 4],
      ),
    ).toEqual([
      'r:app_post_tags:apppostsid=1:1&apptagsid=1:2',
      'r:app_post_tags:apppostsid=1:3&apptagsid=1:4',
      't:app_post_tags',
    ])
    // Bound parameter numbering counts every "?" before the WHERE clause, none inside strings.
    expect(my("UPDATE `app_users` SET `name` = '?', `balance` = ? WHERE `id` = ?", [5, 9])).toContain(
      'r:app_users:9',
    )
  })

  it('falls back to the bulk tag whenever the rows cannot be named exactly', () => {
    const bulk = ['b:app_users', 't:app_users']
    expect(pg('UPDATE "app_users" SET "name" = $1 WHERE "name" = $2', ['x', 'y'])).toEqual(bulk)
    expect(pg('UPDATE "app_users" SET "name" = $1 WHERE "id" = $2 OR "name" = $3', ['x', 1, 'y'])).toEqual(
      bulk,
    )
    expect(pg('UPDATE "app_users" SET "name" = $1 WHERE "id" BETWEEN $2 AND $3', ['x', 1, 5])).toEqual(bulk)
    expect(pg('UPDATE "app_users" SET "name" = $1 WHERE NOT "id" = $2', ['x', 1])).toEqual(bulk)
    expect(
      pg('UPDATE "app_users" SET "name" = $1 WHERE "id" = (SELECT max(id) FROM app_users)', ['x']),
    ).toEqual(bulk)
    expect(pg('UPDATE "app_users" SET "id" = $1 WHERE "id" = $2', [9, 1])).toEqual(bulk) // the key moves
    expect(pg('UPDATE "app_users" SET "name" = $1 WHERE "id" = $2', ['x', '007'])).toEqual(bulk) // not canonical
    expect(pg('UPDATE "app_users" SET "name" = $1 WHERE "id" = $2', ['x', 1.5])).toEqual(bulk)
    expect(pg('UPDATE "app_users" SET "name" = $1', ['x'])).toEqual(bulk)
    expect(pg('DELETE FROM "app_users" WHERE "id" = $1 + 1', [1])).toEqual(expect.arrayContaining(bulk))
    // Text keys compare under collations (case, padding): never named by row.
    expect(
      my('UPDATE `app_memberships` SET `role` = ? WHERE (`userId` = ? AND `groupCode` = ?)', ['r', 1, 'g']),
    ).toEqual(['b:app_memberships', 't:app_memberships'])
    expect(
      writeEffect("UPDATE OR REPLACE app_users SET name = 'x' WHERE id = 1", [], undefined, 'sqlite', schema)
        ?.tags,
    ).toContain('b:app_users')
  })

  it('names inserted rows from explicit keys, RETURNING, insertId and lastInsertRowid', () => {
    expect(pg('INSERT INTO "app_users"("id", "name") VALUES ($1, $2), ($3, $4)', [5, 'a', 6, 'b'])).toEqual([
      'r:app_users:5',
      'r:app_users:6',
      't:app_users',
    ])
    const returning = { command: 'INSERT', rowCount: 2, rows: [{ id: 10 }, { id: 11 }] }
    expect(
      pg('INSERT INTO "app_users"("name") VALUES ($1), ($2) RETURNING "id"', ['a', 'b'], returning),
    ).toEqual(['r:app_users:10', 'r:app_users:11', 't:app_users'])
    // No RETURNING: node-postgres still reports rows: [] — that must not read as "no rows".
    expect(
      pg('INSERT INTO "app_users"("name") VALUES ($1)', ['a'], { command: 'INSERT', rowCount: 1, rows: [] }),
    ).toContain('b:app_users')
    expect(
      my('INSERT INTO `app_users`(`id`, `name`) VALUES (DEFAULT, ?)', ['a'], {
        insertId: 42,
        affectedRows: 1,
      }),
    ).toEqual(['r:app_users:42', 't:app_users'])
    expect(
      my('INSERT INTO `app_users`(`id`, `name`) VALUES (DEFAULT, ?), (DEFAULT, ?)', ['a', 'b'], {
        insertId: 42,
        affectedRows: 2,
      }),
    ).toContain('b:app_users')
    expect(
      writeEffect(
        'INSERT INTO "app_users"("id", "name") VALUES (NULL, ?)',
        ['a'],
        17,
        'sqlite',
        schema,
      )?.tags.filter((t) => !t.startsWith('a:')),
    ).toEqual(['t:app_users', 'r:app_users:17', 'v:app_users:id=17'])
    expect(
      writeEffect(
        'INSERT OR IGNORE INTO "app_users"("id", "name") VALUES (NULL, ?)',
        ['a'],
        17,
        'sqlite',
        schema,
      )?.tags,
    ).toContain('b:app_users')
    expect(
      pg(
        'INSERT INTO "app_tags"("id", "label") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "label" = EXCLUDED."label"',
        [1, 'x'],
      ),
    ).toContain('b:app_tags')
    expect(pg('INSERT INTO app_tags (label) SELECT name FROM app_users', [])).toContain('b:app_tags')
  })

  it('follows database cascades from the entity metadata', () => {
    const tags = pg('DELETE FROM "app_users" WHERE "id" = $1', [1])
    expect(tags).toEqual([
      'b:app_post_tags',
      'b:app_posts',
      'r:app_users:1',
      't:app_post_tags',
      't:app_posts',
      't:app_users',
    ])
    expect(pg('DELETE FROM "app_categories" WHERE "id" = $1', [1])).toEqual(
      expect.arrayContaining(['b:app_posts', 't:app_posts']),
    )
    // A plain update that does not touch a referenced key cascades nowhere.
    expect(pg('UPDATE "app_users" SET "name" = $1 WHERE "id" = $2', ['x', 1])).not.toContain('t:app_posts')
  })

  it('treats unknowable statements as namespace-wide and reads as no write', () => {
    expect(
      writeEffect('DO $$ BEGIN DELETE FROM app_users; END $$', [], undefined, 'postgres', schema)?.everything,
    ).toBe(true)
    expect(writeEffect('CALL refresh_everything()', [], undefined, 'mysql', schema)?.everything).toBe(true)
    expect(
      writeEffect('SELECT * FROM app_users WHERE id = 1', [], undefined, 'postgres', schema),
    ).toBeUndefined()
    expect(writeEffect('START TRANSACTION', [], undefined, 'postgres', schema)).toBeUndefined()
    expect(
      writeEffect("SELECT 'UPDATE app_users SET x = 1'", [], undefined, 'postgres', schema),
    ).toBeUndefined()
  })

  it('recognizes single-table primary-key lookups, and nothing wider', () => {
    expect(
      read(
        'SELECT "U"."id" AS "U_id" FROM "app_users" "U" WHERE ( (("U"."id" = $1)) ) AND ( "U"."deletedAt" IS NULL ) LIMIT 1',
        [3],
      ),
    ).toEqual(['b:app_users', 'r:app_users:3'])
    expect(
      read(
        'SELECT COUNT(DISTINCT("U"."id")) AS "cnt" FROM "app_users" "U" WHERE "U"."id" IN ($1, $2)',
        [3, 4],
      ),
    ).toEqual(['b:app_users', 'r:app_users:3', 'r:app_users:4'])
    expect(read('SELECT * FROM "app_users" "U" WHERE "U"."name" = $1', ['x'])).toEqual(['t:app_users'])
    expect(
      read(
        'SELECT * FROM "app_users" "U" LEFT JOIN "app_posts" "P" ON "P"."authorId" = "U"."id" WHERE "U"."id" = $1',
        [1],
      ),
    ).toEqual(['t:app_users', 't:app_posts'])
    expect(
      read('SELECT * FROM "app_users" "U" WHERE "U"."id" = $1 AND EXISTS (SELECT 1 FROM app_posts)', [1]),
    ).toEqual(['t:app_users', 't:app_posts'])
    expect(read('SELECT my_func("U"."id") FROM "app_users" "U" WHERE "U"."id" = $1', [1])).toEqual([
      't:app_users',
    ])
    expect(read('SELECT * FROM "app_users" "U" WHERE "X"."id" = $1', [1])).toEqual(['t:app_users'])
    expect(statementShape('SELECT 1; DELETE FROM app_users', 'postgres')).toBeUndefined()
  })

  it('expands declared views to the tables they read', () => {
    const views = new Map([['user_stats', ['app_users', 'app_posts']]])
    expect(
      readDependencies('SELECT * FROM user_stats WHERE id = $1', [1], 'postgres', schema, views).tags.sort(),
    ).toEqual(['t:app_posts', 't:app_users', 't:user_stats'])
  })
})
