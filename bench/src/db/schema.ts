import pg from 'pg'
import { adminDatabaseUrl, benchDatabase, databaseUrl } from '../config.js'
import { unreachable } from '../services.js'

export const TEAMS = 100
export const USERS_PER_TEAM = 10
export const POSTS_PER_USER = 5
export const USERS = TEAMS * USERS_PER_TEAM

/** Users 1..USERS; user u belongs to team teamOf(u), teams are 1..TEAMS. */
export const teamOf = (userId: number): number => Math.ceil(userId / USERS_PER_TEAM)
/** Posts of user u are postsOf(u); post p belongs to author authorOf(p). */
export const postsOf = (userId: number): number[] =>
  Array.from({ length: POSTS_PER_USER }, (_, i) => (userId - 1) * POSTS_PER_USER + i + 1)
export const authorOf = (postId: number): number => Math.ceil(postId / POSTS_PER_USER)

// Same tables as prisma/models.prisma, created without Prisma's schema engine. Recreated on every
// run: the database belongs to the bench alone, so an older layout never lingers.
const DDL = `
DROP TABLE IF EXISTS bench_post, bench_user, bench_team, bench_item CASCADE;
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
CREATE INDEX bench_user_team_id_idx ON bench_user(team_id);
CREATE TABLE bench_post (
  id int PRIMARY KEY,
  author_id int NOT NULL REFERENCES bench_user(id) ON DELETE CASCADE,
  title text NOT NULL,
  body text NOT NULL,
  published boolean NOT NULL,
  views int NOT NULL,
  version int NOT NULL DEFAULT 0
);
CREATE INDEX bench_post_author_id_idx ON bench_post(author_id);
CREATE TABLE bench_item (id int PRIMARY KEY, version int NOT NULL, payload text NOT NULL);
`

const SEED = `
INSERT INTO bench_team (id, name) SELECT t, 'Team ' || t FROM generate_series(1, ${TEAMS}) t;
INSERT INTO bench_user (id, team_id, email, name, bio, created_at)
  SELECT u, ceil(u::numeric / ${USERS_PER_TEAM})::int, 'user' || u || '@example.com', 'User ' || u,
         repeat('Writes about caches and databases. ', 4), timestamptz '2024-01-01' + u * interval '1 hour'
  FROM generate_series(1, ${USERS}) u;
INSERT INTO bench_post (id, author_id, title, body, published, views)
  SELECT p, ceil(p::numeric / ${POSTS_PER_USER})::int, 'Post ' || p, repeat('Body text of a post. ', 6),
         p % 2 = 0, p * 7 % 1000
  FROM generate_series(1, ${USERS * POSTS_PER_USER}) p;
INSERT INTO bench_item (id, version, payload)
  SELECT i, 0, repeat('x', 512) FROM generate_series(1, 1000) i;
ANALYZE;
`

/** Lock id that keeps two bench runs from re-seeding the same database under each other. */
const LOCK = 0x0c_be_4c

/**
 * Creates the bench database if missing, (re)creates and re-seeds its tables, and holds an
 * advisory lock until `release()`, so a concurrent bench run fails loudly instead of measuring
 * a database another run is rewriting.
 */
export async function prepareDatabase(): Promise<{ url: string; release(): Promise<void> }> {
  await createDatabaseIfMissing()
  const client = new pg.Client({ connectionString: databaseUrl() })
  await client.connect()
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    LOCK,
  ])
  if (!rows[0]?.locked) {
    await client.end()
    throw new Error(`another bench run holds database "${benchDatabase}"; wait for it to finish`)
  }
  try {
    await client.query(DDL)
    await client.query(SEED)
  } catch (error) {
    await client.end()
    throw error
  }
  return {
    url: databaseUrl(),
    async release() {
      await client.end().catch(() => {})
    },
  }
}

async function createDatabaseIfMissing(): Promise<void> {
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
        // Another process created it between our check and our CREATE.
        if ((error as { code?: string }).code !== '42P04') throw error
      })
    }
  } finally {
    await admin.end()
  }
}
