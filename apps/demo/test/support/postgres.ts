import pg from 'pg'
import { DEMO_DATABASE, postgresUrl, unreachable } from './services.js'

/** postgres://…/ormcache_demo, created if missing; the demo's tables are reset by the demo itself. */
export async function demoPostgresUrl(): Promise<string> {
  const admin = new pg.Client({ connectionString: postgresUrl })
  try {
    await admin.connect()
  } catch (error) {
    throw unreachable('PostgreSQL', new URL(postgresUrl).host, error)
  }
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DATABASE])
    if (found.rowCount === 0) {
      // Two runs may race here; the loser's "already exists" is fine.
      await admin.query(`CREATE DATABASE ${DEMO_DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04' && error.code !== '23505') throw error
      })
    }
  } finally {
    await admin.end()
  }
  const url = new URL(postgresUrl)
  url.pathname = `/${DEMO_DATABASE}`
  return url.toString()
}
