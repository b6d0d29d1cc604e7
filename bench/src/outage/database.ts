import pg from 'pg'
import { adminDatabaseUrl, benchDatabase, databaseUrl } from '../config.js'
import { unreachable } from '../services.js'

/** The outage run's own schema in the bench database: nothing else reads or writes it. */
export const OUTAGE_SCHEMA = 'ormcache_outage'

/** Rows the load reads and writes; each ORM gets its own half. */
export const ROWS = 200

/** The bench's tables (same layout as prisma/models.prisma), in OUTAGE_SCHEMA, freshly seeded. */
export async function prepareOutageSchema(): Promise<string> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl(), connectionTimeoutMillis: 5_000 })
  try {
    await admin.connect()
  } catch (error) {
    throw unreachable('PostgreSQL', adminDatabaseUrl(), error)
  }
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [benchDatabase])
    if (rowCount === 0) {
      await admin.query(`CREATE DATABASE "${benchDatabase.replace(/"/g, '""')}"`).catch((error: unknown) => {
        if ((error as { code?: string }).code !== '42P04') throw error
      })
    }
  } finally {
    await admin.end()
  }
  const client = new pg.Client({ connectionString: databaseUrl() })
  await client.connect()
  try {
    await client.query(`
      DROP SCHEMA IF EXISTS ${OUTAGE_SCHEMA} CASCADE;
      CREATE SCHEMA ${OUTAGE_SCHEMA};
      SET search_path TO ${OUTAGE_SCHEMA};
      CREATE TABLE bench_team (id int PRIMARY KEY, name text NOT NULL);
      CREATE TABLE bench_user (
        id int PRIMARY KEY,
        team_id int NOT NULL REFERENCES bench_team(id),
        email text NOT NULL,
        name text NOT NULL,
        bio text NOT NULL,
        version int NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE TABLE bench_post (
        id int PRIMARY KEY,
        author_id int NOT NULL REFERENCES bench_user(id) ON DELETE CASCADE,
        title text NOT NULL,
        body text NOT NULL,
        published boolean NOT NULL,
        views int NOT NULL,
        version int NOT NULL DEFAULT 0
      );
      INSERT INTO bench_team (id, name) VALUES (1, 'Team 1');
      INSERT INTO bench_user (id, team_id, email, name, bio)
        SELECT u, 1, 'user' || u || '@example.com', 'User ' || u, 'Outage load row'
        FROM generate_series(1, ${ROWS}) u;
    `)
  } finally {
    await client.end()
  }
  return databaseUrl()
}

export async function dropOutageSchema(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${OUTAGE_SCHEMA} CASCADE`)
  } finally {
    await client.end()
  }
}
