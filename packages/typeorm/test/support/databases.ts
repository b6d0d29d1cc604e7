import 'reflect-metadata'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataSource, type DataSourceOptions, type Logger } from 'typeorm'

export type Dialect = 'postgres' | 'mysql' | 'sqlite'
export const DIALECTS: readonly Dialect[] = ['postgres', 'sqlite', 'mysql']

const DATABASE = 'ormcache_typeorm'
const postgresUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
const mysqlUrl = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test')

/** Counts the statements TypeORM sends to the database (every one passes through logQuery). */
export class QueryCounter implements Logger {
  count = 0
  readonly statements: string[] = []
  record = false
  logQuery(query: string): void {
    this.count++
    if (this.record) this.statements.push(query)
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  /** Statements other than transaction control. */
  reset(): void {
    this.count = 0
    this.statements.length = 0
  }
}

function unreachable(service: string, where: string, cause: unknown): Error {
  const why = cause instanceof Error ? ` (${cause.message})` : ''
  return new Error(`${service} is not reachable at ${where}${why}; run \`npm run services\``)
}

/** Creates the package's own database on the server if missing (never touches other databases). */
export async function ensureDatabase(dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') return
  const admin = new DataSource(
    dialect === 'postgres'
      ? { type: 'postgres', url: postgresUrl.toString() }
      : { type: 'mysql', url: mysqlUrl.toString() },
  )
  const where = dialect === 'postgres' ? postgresUrl.host : mysqlUrl.host
  try {
    await admin.initialize()
  } catch (error) {
    throw unreachable(dialect === 'postgres' ? 'PostgreSQL' : 'MariaDB/MySQL', where, error)
  }
  try {
    if (dialect === 'postgres') {
      const rows: unknown[] = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])
      if (rows.length === 0) await admin.query(`CREATE DATABASE ${DATABASE}`).catch(() => undefined)
    } else {
      await admin.query(`CREATE DATABASE IF NOT EXISTS ${DATABASE}`)
    }
  } finally {
    await admin.destroy()
  }
}

let sqliteDir: string | undefined

/** Connection options for the package's database on `dialect` (no entities, no cache). */
export function connectionOptions(dialect: Dialect, sqliteFile = 'test.db'): DataSourceOptions {
  switch (dialect) {
    case 'postgres': {
      const url = new URL(postgresUrl)
      url.pathname = `/${DATABASE}`
      return { type: 'postgres', url: url.toString(), poolSize: 10 }
    }
    case 'mysql': {
      const url = new URL(mysqlUrl)
      url.pathname = `/${DATABASE}`
      return {
        type: 'mysql',
        url: url.toString(),
        connectorPackage: 'mysql2',
        poolSize: 10,
      } as DataSourceOptions
    }
    case 'sqlite': {
      sqliteDir ??= mkdtempSync(join(tmpdir(), 'ormcache-typeorm-'))
      return { type: 'better-sqlite3', database: join(sqliteDir, sqliteFile) }
    }
  }
}
