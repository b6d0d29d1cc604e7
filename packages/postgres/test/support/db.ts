import pg from 'pg'

/** The package's own database: replication slots are per database, so no other suite sees ours. */
export const DATABASE = 'ormcache_postgres'

export function adminUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
}

export function databaseUrl(): string {
  const url = new URL(adminUrl())
  url.pathname = `/${DATABASE}`
  return url.toString()
}

export async function connect(url = databaseUrl()): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${new URL(url).host} (${(error as Error).message}); run \`npm run services\``,
    )
  }
  return client
}

/** Creates the database if missing and checks the server is set up for logical replication. */
export async function ensureDatabase(): Promise<void> {
  const admin = await connect(adminUrl())
  try {
    const { rows } = await admin.query('SHOW wal_level')
    if (rows[0].wal_level !== 'logical')
      throw new Error(
        'PostgreSQL wal_level is not logical: run `node scripts/services.mjs up --only postgres`',
      )
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`).catch(() => undefined)
  } finally {
    await admin.end()
  }
}

/** Runs statements on a fresh connection: the "other service" writing outside any ORM. */
export async function outside(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = await connect()
  try {
    return await client.query(sql, params)
  } finally {
    await client.end()
  }
}

/** Drops a test's slot (an abandoned slot retains WAL) and publication, ending any walsender first. */
export async function dropReplication(slot: string, publication: string): Promise<void> {
  const client = await connect()
  try {
    await client.query(
      'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
      [slot],
    )
    for (let i = 0; i < 50; i++) {
      const { rowCount } = await client.query(
        'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
        [slot],
      )
      if (rowCount === 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    await client.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    )
    await client.query(`DROP PUBLICATION IF EXISTS ${publication}`)
  } finally {
    await client.end()
  }
}

export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A fresh `table (id int PRIMARY KEY, v int NOT NULL)` with rows 1..`rows` (v = 0), `slot` and its publication dropped. */
export async function freshRowsTable(slot: string, table: string, rows: number): Promise<void> {
  await ensureDatabase()
  await dropReplication(slot, slot)
  await outside(`DROP TABLE IF EXISTS ${table}`)
  await outside(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL)`)
  await outside(`INSERT INTO ${table} SELECT i, 0 FROM generate_series(1, ${rows}) i`)
}
