import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import Database from 'better-sqlite3'
import pg from 'pg'
import { postgresUrl } from './env.js'
import { countingAdapter, QueryProbe } from './probe.js'

export type Dialect = 'postgres' | 'sqlite'
export const DIALECTS: readonly Dialect[] = ['postgres', 'sqlite']

/** Every table of test/schema/models.prisma, join tables included, children first. */
export const TABLES = [
  '_PostToTag',
  '_UserGroups',
  'comments',
  'memberships',
  'posts',
  'settings',
  'tags',
  'groups',
  'teams',
  'users',
] as const

const schemaFile = (name: string) => new URL(`../schema/${name}`, import.meta.url)

export interface TestDatabase {
  dialect: Dialect
  /** A driver adapter (factory) whose statements are counted by `probe`. */
  adapter(probe?: QueryProbe): PrismaPg | PrismaBetterSqlite3
  /** Empties every table and restarts identities. */
  reset(): Promise<void>
  /** Table names that exist in the database. */
  tables(): Promise<string[]>
  close(): Promise<void>
}

/** Creates the schema from the committed DDL (PostgreSQL: database ormcache_prisma; SQLite: a temp file). */
export async function openDatabase(dialect: Dialect): Promise<TestDatabase> {
  return dialect === 'postgres' ? openPostgres() : openSqlite()
}

async function openPostgres(): Promise<TestDatabase> {
  const url = postgresUrl()
  const admin = new pg.Client({ connectionString: url })
  try {
    await admin.connect()
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${url} (${(error as Error).message}). Start it with \`npm run services\`.`,
    )
  }
  await admin.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;')
  await admin.query(readFileSync(schemaFile('postgres.sql'), 'utf8'))
  return {
    dialect: 'postgres',
    adapter: (probe = new QueryProbe()) => countingAdapter(new PrismaPg({ connectionString: url }), probe),
    async reset() {
      await admin.query(`TRUNCATE ${TABLES.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`)
    },
    async tables() {
      const result = await admin.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
      )
      return result.rows.map((row) => row.tablename)
    },
    async close() {
      await admin.end()
    },
  }
}

async function openSqlite(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'ormcache-prisma-'))
  const file = join(dir, 'test.db')
  const db = new Database(file)
  db.exec(readFileSync(schemaFile('sqlite.sql'), 'utf8'))
  return {
    dialect: 'sqlite',
    adapter: (probe = new QueryProbe()) =>
      countingAdapter(new PrismaBetterSqlite3({ url: `file:${file}` }), probe),
    async reset() {
      db.exec('PRAGMA foreign_keys = OFF')
      for (const table of TABLES) db.exec(`DELETE FROM "${table}"`)
      db.exec('DELETE FROM sqlite_sequence')
      db.exec('PRAGMA foreign_keys = ON')
    },
    async tables() {
      return (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
      ).map((row) => row.name)
    },
    async close() {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
