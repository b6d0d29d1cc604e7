import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { parseDatabaseUrl } from '../src/config.js'
import { setupDatabase } from '../src/db/setup-database.js'
import { removeTempDirs, startTestDemo, type TestDemo } from './support/demo.js'
import { demoPostgresUrl } from './support/postgres.js'

const TABLES = ['users', 'posts', 'comments', 'tags', '_post_tags']

let demo: TestDemo
let sqliteColumns: Record<string, string[]>

beforeAll(async () => {
  demo = await startTestDemo()
  const db = new Database(demo.config.database.url, { readonly: true })
  sqliteColumns = Object.fromEntries(
    TABLES.map((table) => [
      table,
      (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name).sort(),
    ]),
  )
  db.close()
})

afterAll(async () => {
  await demo?.close()
  removeTempDirs()
})

it('the committed SQL for SQLite creates the five tables', () => {
  for (const table of TABLES) expect(sqliteColumns[table]!.length, table).toBeGreaterThan(0)
  expect(sqliteColumns._post_tags).toEqual(['A', 'B'])
})

it('TypeORM maps every column of every table, and nothing else', () => {
  const mapped = Object.fromEntries(
    demo.dataSource.entityMetadatas.map((m) => [
      m.tableName,
      [...new Set(m.columns.map((c) => c.databaseName))].sort(),
    ]),
  )
  expect(Object.keys(mapped).sort()).toEqual([...TABLES].sort())
  for (const table of TABLES) expect(mapped[table], table).toEqual(sqliteColumns[table])
})

it('Prisma reads every column of every model table (a column missing from the SQL would fail the query)', async () => {
  const { base } = demo.prisma
  const rows: Record<string, object | null> = {
    users: await base.user.findFirst(),
    posts: await base.post.findFirst(),
    comments: await base.comment.findFirst(),
    tags: await base.tag.findFirst(),
  }
  for (const [table, row] of Object.entries(rows)) {
    expect(row, table).not.toBeNull()
    expect(Object.keys(row!).length, `${table}: Prisma's scalar fields vs the table's columns`).toBe(
      sqliteColumns[table]!.length,
    )
  }
  const withTags = await base.post.findFirst({ where: { tags: { some: {} } }, include: { tags: true } })
  expect(withTags?.tags.length).toBeGreaterThan(0)
})

it('the committed SQL for PostgreSQL creates the same tables and columns', async () => {
  const url = await demoPostgresUrl()
  await setupDatabase(parseDatabaseUrl(url), { reset: false, seed: false })
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const result = await client.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY($1)`,
      [TABLES],
    )
    const postgresColumns: Record<string, string[]> = {}
    for (const row of result.rows) {
      postgresColumns[row.table_name] = [...(postgresColumns[row.table_name] ?? []), row.column_name]
    }
    for (const table of TABLES) expect(postgresColumns[table]?.sort(), table).toEqual(sqliteColumns[table])
  } finally {
    await client.end()
  }
})

it('starting twice on the same database is idempotent and does not seed again', async () => {
  const again = await setupDatabase(demo.config.database, { reset: false, seed: true })
  expect(again.seeded).toBe(false)
  expect(again.users).toBeGreaterThanOrEqual(40)
})
