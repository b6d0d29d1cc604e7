import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import type { DatabaseConfig, Dialect } from '../config.js'

/**
 * A plain driver connection used before the ORMs start: to apply the committed schema and to
 * seed. Placeholders are written `?` and rewritten to `$n` for PostgreSQL.
 */
export interface SqlRunner {
  readonly dialect: Dialect
  /** Runs a script of several statements without parameters. */
  script(sql: string): Promise<void>
  run(sql: string, params?: readonly unknown[]): Promise<void>
  /** The first column of the first row. */
  value(sql: string): Promise<unknown>
  transaction(body: () => Promise<void>): Promise<void>
  close(): Promise<void>
}

export async function openSqlRunner(database: DatabaseConfig): Promise<SqlRunner> {
  return database.dialect === 'sqlite' ? sqliteRunner(database.url) : postgresRunner(database.url)
}

function sqliteRunner(file: string): SqlRunner {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  // WAL lets the two ORMs' connections read while the other writes; it is stored in the file.
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  return {
    dialect: 'sqlite',
    async script(sql) {
      db.exec(sql)
    },
    async run(sql, params = []) {
      db.prepare(sql).run(...params.map(sqliteValue))
    },
    async value(sql) {
      return db.prepare(sql).pluck().get()
    },
    async transaction(body) {
      db.exec('BEGIN')
      try {
        await body()
        db.exec('COMMIT')
      } catch (error) {
        db.exec('ROLLBACK')
        throw error
      }
    },
    async close() {
      db.close()
    },
  }
}

const sqliteValue = (value: unknown) => (typeof value === 'boolean' ? (value ? 1 : 0) : value)

async function postgresRunner(url: string): Promise<SqlRunner> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  // Concurrent starts (two demo processes) would race on CREATE TABLE IF NOT EXISTS; the lock
  // ends with the session.
  await client.query('SELECT pg_advisory_lock(726202406)')
  return {
    dialect: 'postgres',
    async script(sql) {
      await client.query(sql)
    },
    async run(sql, params = []) {
      await client.query(numbered(sql), [...params])
    },
    async value(sql) {
      const result = await client.query({ text: sql, rowMode: 'array' })
      return result.rows[0]?.[0]
    },
    async transaction(body) {
      await client.query('BEGIN')
      try {
        await body()
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw error
      }
    },
    async close() {
      await client.end()
    },
  }
}

function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}
