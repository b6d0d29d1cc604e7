import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { adminUrl, PG_DATABASE } from '../support/env.js'

/** Generates the test clients and makes sure the test database exists. */
export default async function setup(): Promise<void> {
  const packageRoot = fileURLToPath(new URL('../..', import.meta.url))
  const script = fileURLToPath(new URL('../../../../scripts/prisma-generate.mjs', import.meta.url))
  const generate = spawnSync(
    process.execPath,
    [script, '--models', 'test/schema/models.prisma', '--out', 'test/generated'],
    { stdio: 'inherit', cwd: packageRoot },
  )
  if (generate.status !== 0) throw new Error('prisma generate failed (see output above)')

  const admin = new pg.Client({ connectionString: adminUrl() })
  try {
    await admin.connect()
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${adminUrl()} (${(error as Error).message}). Start it with \`npm run services\`.`,
    )
  }
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [PG_DATABASE])
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${PG_DATABASE}"`)
  } finally {
    await admin.end()
  }
}
