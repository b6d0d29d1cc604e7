import { readFile } from 'node:fs/promises'
import type { DatabaseConfig } from '../config.js'
import { demoPath } from '../paths.js'
import { type SeedData, seedData } from './seed-data.js'
import { openSqlRunner, type SqlRunner } from './sql-runner.js'

/** Children first, so a reset never trips over a foreign key. */
const TABLES = ['_post_tags', 'comments', 'posts', 'tags', 'users']

export interface SetupOptions {
  /** Drop the demo's tables first. */
  reset: boolean
  /** Insert the seed when the users table is empty. */
  seed: boolean
}

export interface SetupReport {
  seeded: boolean
  users: number
}

/**
 * Creates the tables from the committed SQL of the dialect (no migration engine needed) and
 * seeds an empty database. Idempotent: a second start finds everything in place.
 */
export async function setupDatabase(database: DatabaseConfig, options: SetupOptions): Promise<SetupReport> {
  const runner = await openSqlRunner(database)
  try {
    if (options.reset) await runner.script(TABLES.map((t) => `DROP TABLE IF EXISTS "${t}";`).join('\n'))
    await runner.script(await readFile(demoPath('sql', `${database.dialect}.sql`), 'utf8'))
    let users = Number(await runner.value('SELECT COUNT(*) FROM "users"'))
    const seeded = options.seed && users === 0
    if (seeded) {
      const data = seedData()
      await runner.transaction(() => insertSeed(runner, data))
      users = data.users.length
    }
    return { seeded, users }
  } finally {
    await runner.close()
  }
}

async function insertSeed(runner: SqlRunner, data: SeedData): Promise<void> {
  await insertRows(
    runner,
    'users',
    ['id', 'email', 'name', 'bio'],
    data.users.map((u) => [u.id, u.email, u.name, u.bio]),
  )
  await insertRows(
    runner,
    'tags',
    ['id', 'name'],
    data.tags.map((t) => [t.id, t.name]),
  )
  await insertRows(
    runner,
    'posts',
    ['id', 'title', 'body', 'views', 'author_id'],
    data.posts.map((p) => [p.id, p.title, p.body, p.views, p.authorId]),
  )
  await insertRows(
    runner,
    '_post_tags',
    ['A', 'B'],
    data.postTags.map((pt) => [pt.postId, pt.tagId]),
  )
  await insertRows(
    runner,
    'comments',
    ['id', 'body', 'post_id', 'author_id'],
    data.comments.map((c) => [c.id, c.body, c.postId, c.authorId]),
  )
  if (runner.dialect === 'postgres') {
    // Explicit ids leave the SERIAL sequences behind; later inserts would collide without this.
    for (const table of ['users', 'tags', 'posts', 'comments']) {
      await runner.run(
        `SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), (SELECT MAX("id") FROM "${table}"))`,
      )
    }
  }
}

/** Multi-row INSERTs in chunks that stay under both drivers' parameter limits. */
async function insertRows(
  runner: SqlRunner,
  table: string,
  columns: string[],
  rows: unknown[][],
): Promise<void> {
  const perChunk = Math.floor(500 / columns.length)
  const row = `(${columns.map(() => '?').join(', ')})`
  for (let i = 0; i < rows.length; i += perChunk) {
    const chunk = rows.slice(i, i + perChunk)
    await runner.run(
      `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${chunk.map(() => row).join(', ')}`,
      chunk.flat(),
    )
  }
}
