import { afterAll, describe, expect, it } from 'vitest'
import {
  classifyRead,
  planRead,
  type SqlDialect,
  sqlTables,
  type UncacheableReason,
} from '../src/exports/adapter.js'
import { createCache, NoDependenciesError, type OrmCacheError } from '../src/exports/index.js'

type Case = [sql: string, reason: UncacheableReason | 'cacheable', dialect?: SqlDialect]

const cases: Case[] = [
  // Plain reads stay cacheable.
  ['SELECT * FROM item WHERE id = $1', 'cacheable'],
  ['WITH r AS (SELECT * FROM item) SELECT * FROM r', 'cacheable'],
  ['SELECT * FROM a UNION SELECT * FROM b', 'cacheable'],
  ['SELECT SUBSTRING(label FROM 1 FOR 2) FROM item', 'cacheable'],
  ['SELECT * FROM item FETCH NEXT 5 ROWS ONLY', 'cacheable'],
  // Names in strings, comments and quoted identifiers do not count.
  ["SELECT * FROM item WHERE label = 'now()'", 'cacheable'],
  ["SELECT * FROM item WHERE label = 'INSERT INTO item VALUES (1)'", 'cacheable'],
  ['SELECT * FROM item -- random()\n', 'cacheable'],
  ['SELECT * FROM item /* FOR UPDATE nextval( */', 'cacheable'],
  ['SELECT "now", "random" FROM item', 'cacheable'],
  ['SELECT `now`(1) FROM item', 'cacheable', 'mysql'],
  ['SELECT now, random FROM item', 'cacheable'],
  ['SELECT i.current_date FROM item i', 'cacheable'],
  ["SELECT * FROM item WHERE label = 'now'", 'cacheable', 'mysql'],
  ["SELECT date(created, 'start of day') FROM item", 'cacheable', 'sqlite'],
  ["SELECT strftime('%Y', created) FROM item", 'cacheable', 'sqlite'],
  ['SELECT DATE(created) FROM item', 'cacheable', 'mysql'],
  ['SELECT $$ now() $$ FROM item', 'cacheable'],
  // Data-modifying CTEs, string and builder forms, nested, MERGE.
  ['WITH w AS (INSERT INTO item(label) VALUES ($1) RETURNING id) SELECT * FROM w', 'writes'],
  [
    'WITH "w" AS (INSERT INTO "item"("label") VALUES (DEFAULT) RETURNING "id") SELECT * FROM "w" "w"',
    'writes',
  ],
  ['WITH u AS (UPDATE item SET n = n + 1 RETURNING n) SELECT * FROM u', 'writes'],
  ['WITH d AS (DELETE FROM item WHERE id = 1 RETURNING *) SELECT count(*) FROM d', 'writes'],
  ['WITH m AS (MERGE INTO item USING src ON item.id = src.id WHEN MATCHED THEN DELETE) SELECT 1', 'writes'],
  [
    'WITH w AS (INSERT INTO item(label) VALUES (1) RETURNING id), v AS (SELECT * FROM w) SELECT * FROM v',
    'writes',
  ],
  [
    'WITH a AS (WITH b AS (INSERT INTO item DEFAULT VALUES RETURNING id) SELECT * FROM b) SELECT * FROM a',
    'writes',
  ],
  ['SELECT * FROM (WITH w AS (DELETE FROM item RETURNING id) SELECT id FROM w) x', 'writes'],
  // SELECT … INTO: a new table, variables or a file.
  ['SELECT * INTO item_copy FROM item', 'writes'],
  ['SELECT * INTO TEMP item_copy FROM item', 'writes'],
  ['SELECT id INTO @x FROM item LIMIT 1', 'writes', 'mysql'],
  ["SELECT * FROM item INTO OUTFILE '/tmp/x'", 'writes', 'mysql'],
  // Several statements, one of which writes.
  ['SELECT * FROM item; DELETE FROM item', 'writes'],
  // Statements that are not reads, or whose writes cannot be named.
  ['CALL refresh_items()', 'unknown'],
  ['SHOW TABLES', 'unknown', 'mysql'],
  ['PRAGMA table_info(item)', 'unknown', 'sqlite'],
  ['SET search_path TO x', 'unknown'],
  ['', 'unknown'],
  // Locking reads.
  ['SELECT * FROM item WHERE id = 1 FOR UPDATE', 'locking'],
  ['SELECT * FROM item FOR UPDATE OF item SKIP LOCKED', 'locking'],
  ['SELECT * FROM item FOR NO KEY UPDATE NOWAIT', 'locking'],
  ['SELECT * FROM item FOR SHARE', 'locking'],
  ['SELECT * FROM item FOR KEY SHARE', 'locking'],
  ['SELECT * FROM (SELECT * FROM item FOR UPDATE) x', 'locking'],
  ['SELECT * FROM item LOCK IN SHARE MODE', 'locking', 'mysql'],
  ['LOCK TABLE item IN ACCESS EXCLUSIVE MODE', 'locking'],
  // Volatile functions, PostgreSQL.
  ["SELECT nextval('item_seq') FROM item", 'volatile'],
  ["SELECT setval('item_seq', 5), currval('item_seq'), lastval() FROM item", 'volatile'],
  ['SELECT * FROM item ORDER BY random()', 'volatile'],
  ['SELECT gen_random_uuid() FROM item', 'volatile'],
  ['SELECT uuid_generate_v4() FROM item', 'volatile'],
  ['SELECT * FROM item WHERE expires_at > now()', 'volatile'],
  ['SELECT * FROM item WHERE expires_at > pg_catalog.now()', 'volatile'],
  ['SELECT * FROM item WHERE expires_at > CURRENT_TIMESTAMP', 'volatile'],
  ['SELECT * FROM item WHERE day = current_date', 'volatile'],
  ['SELECT clock_timestamp(), statement_timestamp(), transaction_timestamp() FROM item', 'volatile'],
  ['SELECT localtimestamp, current_time, timeofday() FROM item', 'volatile'],
  ["SELECT * FROM item WHERE expires_at > 'now'", 'volatile'],
  ["SELECT * FROM item WHERE day = 'today'::date", 'volatile'],
  ['SELECT pg_advisory_lock(1) FROM item', 'volatile'],
  ['SELECT pg_try_advisory_xact_lock(1) FROM item', 'volatile'],
  ['SELECT txid_current() FROM item', 'volatile'],
  ['SELECT pg_current_xact_id() FROM item', 'volatile'],
  ['SELECT pg_sleep(0) FROM item', 'volatile'],
  ["SELECT lo_import('/tmp/x') FROM item", 'volatile'],
  ["SELECT pg_notify('c', 'x'), set_config('a.b', '1', false) FROM item", 'volatile'],
  // MySQL / MariaDB.
  ['SELECT * FROM item ORDER BY RAND()', 'volatile', 'mysql'],
  ['SELECT UUID(), UUID_SHORT() FROM item', 'volatile', 'mysql'],
  ['SELECT * FROM item WHERE expires_at > NOW()', 'volatile', 'mysql'],
  ['SELECT SYSDATE(), CURDATE(), CURTIME(), UTC_TIMESTAMP() FROM item', 'volatile', 'mysql'],
  ['SELECT UNIX_TIMESTAMP() FROM item', 'volatile', 'mysql'],
  ['SELECT LAST_INSERT_ID() FROM item', 'volatile', 'mysql'],
  ["SELECT GET_LOCK('a', 0) FROM item", 'volatile', 'mysql'],
  ['SELECT SLEEP(0) FROM item', 'volatile', 'mysql'],
  ['SELECT NEXTVAL(item_seq) FROM item', 'volatile', 'mysql'],
  ['SELECT NEXT VALUE FOR item_seq FROM item', 'volatile', 'mysql'],
  ['SELECT @n := @n + 1 FROM item', 'volatile', 'mysql'],
  // SQLite.
  ["SELECT * FROM item WHERE expires_at > datetime('now')", 'volatile', 'sqlite'],
  ["SELECT date('now'), julianday('NOW') FROM item", 'volatile', 'sqlite'],
  ["SELECT strftime('%s', 'now') FROM item", 'volatile', 'sqlite'],
  ["SELECT strftime('%s') FROM item", 'volatile', 'sqlite'],
  ['SELECT datetime() FROM item', 'volatile', 'sqlite'],
  ['SELECT * FROM item WHERE expires_at > datetime(?)', 'volatile', 'sqlite'],
  ['SELECT random(), randomblob(4) FROM item', 'volatile', 'sqlite'],
  ['SELECT changes(), last_insert_rowid() FROM item', 'volatile', 'sqlite'],
  ['SELECT CURRENT_TIMESTAMP FROM item', 'volatile', 'sqlite'],
  // No table at all.
  ['SELECT 1', 'no-tables'],
  ['SELECT * FROM generate_series(1, 3) g', 'no-tables'],
  ['VALUES (1), (2)', 'no-tables'],
  ['WITH x AS (SELECT 1 AS n) SELECT * FROM x', 'no-tables'],
]

describe('classifyRead', () => {
  it.each(cases)('%s → %s', (sql, expected, dialect) => {
    const verdict = classifyRead(sql, dialect)
    expect(verdict.cacheable ? 'cacheable' : verdict.reason).toBe(expected)
    if (expected === 'volatile') expect(verdict.volatile.length).toBeGreaterThan(0)
  })

  it('a volatile read of no table is volatile, and keeps its reads empty', () => {
    expect(classifyRead('SELECT now()')).toMatchObject({ cacheable: false, reason: 'volatile', reads: [] })
  })

  it('names what it found', () => {
    expect(classifyRead("SELECT nextval('s'), now() FROM t").volatile).toEqual(['nextval', 'now'])
  })

  it('treats declared user functions as volatile', () => {
    expect(classifyRead('SELECT * FROM t WHERE owner = my_session_user()').cacheable).toBe(true)
    expect(
      classifyRead('SELECT * FROM t WHERE owner = MY_SESSION_USER()', 'postgres', {
        volatileFunctions: ['my_session_user'],
      }).reason,
    ).toBe('volatile')
  })
})

describe('sqlTables and SELECT … INTO', () => {
  it('names the table SELECT INTO creates, and no table for variables or files', () => {
    expect(sqlTables('SELECT * INTO TEMP copy FROM item')).toEqual({ reads: ['item'], writes: ['copy'] })
    expect(sqlTables('SELECT id INTO @x FROM item', 'mysql').writes).toEqual([])
    expect(sqlTables("SELECT id FROM item INTO OUTFILE '/tmp/x'", 'mysql').writes).toEqual([])
    expect(sqlTables('INSERT IGNORE INTO item (a) SELECT a FROM src', 'mysql').writes).toEqual(['item'])
    expect(sqlTables('INSERT OR REPLACE INTO kv (k) VALUES (1)', 'sqlite').writes).toEqual(['kv'])
  })
})

describe('planRead', () => {
  const verdict = (sql: string) => classifyRead(sql)
  const errors: OrmCacheError[] = []
  const cache = createCache({ namespace: 'read-plan-test' })
  cache.on('error', (event) => errors.push(event.error))
  afterAll(() => cache.close())

  it('never caches writes, unknown statements or locking reads, even when asked', () => {
    for (const sql of [
      'WITH w AS (INSERT INTO item DEFAULT VALUES RETURNING id) SELECT * FROM w',
      'CALL x()',
      'SELECT * FROM item FOR UPDATE',
    ]) {
      const plan = planRead(cache, {
        key: 'k',
        verdict: verdict(sql),
        dependencies: ['t:item'],
        explicit: true,
      })
      expect(plan.cache).toBe(false)
    }
  })

  it('caches volatile and table-less reads only when the query asks explicitly', () => {
    const volatile = verdict('SELECT * FROM item WHERE expires_at > now()')
    expect(
      planRead(cache, { key: 'k', verdict: volatile, dependencies: ['t:item'], explicit: false }),
    ).toEqual({
      cache: false,
      reason: 'volatile',
    })
    expect(
      planRead(cache, { key: 'k', verdict: volatile, dependencies: ['t:item'], explicit: true }),
    ).toEqual({
      cache: true,
    })
    const one = verdict('SELECT 1')
    expect(planRead(cache, { key: 'k', verdict: one, dependencies: [], explicit: false })).toEqual({
      cache: false,
      reason: 'no-tables',
    })
    expect(planRead(cache, { key: 'k', verdict: one, dependencies: [], explicit: true })).toEqual({
      cache: true,
    })
    expect(errors).toEqual([])
  })

  it('refuses an entry with no dependency and reports ERR_NO_DEPENDENCIES', () => {
    const plan = planRead(cache, {
      key: 'lost',
      verdict: verdict('SELECT * FROM item'),
      dependencies: [],
      explicit: true,
    })
    expect(plan).toEqual({ cache: false, reason: 'no-dependencies' })
    expect(planRead(cache, { key: 'model', dependencies: [], explicit: false }).cache).toBe(false)
    expect(errors).toHaveLength(2)
    expect(errors[0]).toBeInstanceOf(NoDependenciesError)
    expect(errors[0]!.code).toBe('ERR_NO_DEPENDENCIES')
    expect(cache.stats().errors).toBe(2)
  })

  it('leaves the plain wrap API alone: a user entry without tags is still cached', async () => {
    let loads = 0
    const load = async () => ++loads
    await cache.wrap('untagged', load)
    expect(await cache.wrap('untagged', load)).toBe(1)
    expect(loads).toBe(1)
  })
})
