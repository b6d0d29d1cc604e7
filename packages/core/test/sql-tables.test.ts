import { describe, expect, it } from 'vitest'
import { type SqlDialect, sqlTables } from '../src/exports/adapter.js'

type Case = [sql: string, reads: string[], writes: string[] | undefined, dialect?: SqlDialect]

const cases: Case[] = [
  ['SELECT * FROM users', ['users'], []],
  [
    'SELECT "User"."id" AS "User_id" FROM "user" "User" LEFT JOIN "post" "Post" ON "Post"."authorId"="User"."id" WHERE "User"."id" IN ($1, $2)',
    ['user', 'post'],
    [],
  ],
  ['SELECT * FROM a, b AS bb, public.c WHERE x = 1', ['a', 'b', 'c'], []],
  ['SELECT * FROM a JOIN b ON a.id = b.id, c', ['a', 'b', 'c'], []],
  ['SELECT * FROM (SELECT * FROM a) x, b', ['a', 'b'], []],
  ['select * from generate_series(1,3) g, users', ['users'], []],
  ['SELECT EXTRACT(YEAR FROM created_at) FROM posts', ['posts'], []],
  ["SELECT 'FROM secret' FROM t -- FROM comment\n", ['t'], []],
  ['SELECT /* FROM hidden /* nested */ still */ 1 FROM t', ['t'], []],
  ['SELECT a # b FROM t', ['t'], []],
  ['SELECT $$ FROM nope $$, $tag$ FROM x $tag$ FROM yes', ['yes'], []],
  ["SELECT E'it\\'s FROM x' FROM yes", ['yes'], []],
  ['SELECT * FROM a STRAIGHT_JOIN b', ['a', 'b'], [], 'mysql'],
  ['SELECT * FROM [my table]', ['my table'], [], 'sqlite'],
  ['SELECT * FROM "weird""name"', ['weird"name'], []],
  ['SELECT * FROM t FOR UPDATE', ['t'], []],
  ['WITH recent AS (SELECT * FROM posts) SELECT * FROM recent JOIN users u ON true', ['posts', 'users'], []],
  ['WITH d AS (DELETE FROM posts WHERE id = 1 RETURNING *) SELECT * FROM d', ['posts'], ['posts']],
  ['INSERT INTO "public"."users" ("a","b") VALUES ($1,$2) RETURNING "id"', [], ['users']],
  ['INSERT INTO users (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = EXCLUDED.a', [], ['users']],
  ['INSERT INTO `users` (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2', [], ['users'], 'mysql'],
  ["INSERT INTO t (a) VALUES ('it\\'s; DELETE FROM x')", [], ['t'], 'mysql'],
  ['INSERT INTO archive SELECT * FROM posts', ['posts'], ['archive']],
  ['INSERT OR REPLACE INTO kv (k, v) VALUES (1, 2)', [], ['kv'], 'sqlite'],
  ['UPDATE users SET name = $1 WHERE id = $2', [], ['users']],
  ['UPDATE ONLY "Post" SET "views" = "views" + 1', [], ['Post']],
  ['UPDATE users u SET x = (SELECT max(y) FROM z) FROM other o WHERE o.id = u.id', ['z', 'other'], ['users']],
  ['UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = 1', ['t2'], ['t1', 't2'], 'mysql'],
  ['DELETE FROM "post" WHERE "id" = $1', ['post'], ['post']],
  ['DELETE t1, t2 FROM t1 INNER JOIN t2 WHERE t1.id = t2.id', ['t1', 't2'], ['t1', 't2'], 'mysql'],
  ['TRUNCATE TABLE a, b RESTART IDENTITY', [], ['a', 'b']],
  ['MERGE INTO tgt USING src ON tgt.id = src.id WHEN MATCHED THEN UPDATE SET x = 1', ['src'], ['tgt']],
  ['BEGIN; UPDATE a SET x=1; COMMIT', [], ['a']],
  ['SET search_path TO x', [], []],
  ['SAVEPOINT typeorm_1', [], []],
  // Writes we cannot name: the caller must invalidate everything.
  ['TRUNCATE a CASCADE', [], undefined],
  ['CALL do_things()', [], undefined],
  ['ALTER TABLE users ADD COLUMN x int', [], undefined],
  ['DO $$ BEGIN DELETE FROM x; END $$', [], undefined],
  ['VACUUMIFY users', [], undefined],
]

describe('sqlTables', () => {
  it.each(cases)('%s', (sql, reads, writes, dialect) => {
    const result = sqlTables(sql, dialect)
    expect(result.reads.sort()).toEqual([...reads].sort())
    if (writes === undefined) expect(result.writes).toBeUndefined()
    else expect(result.writes?.sort()).toEqual([...writes].sort())
  })

  it('treats "#" as a comment only on MySQL', () => {
    expect(sqlTables('SELECT 1 # FROM hidden\nFROM t', 'mysql').reads).toEqual(['t'])
    expect(sqlTables('SELECT a # b FROM t', 'postgres').reads).toEqual(['t'])
  })
})
