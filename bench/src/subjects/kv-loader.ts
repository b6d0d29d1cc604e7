import pg from 'pg'
import { POOL_SIZE } from './orm.js'

export interface ItemRow {
  id: number
  version: number
}

/**
 * The database behind the core-level scenarios: rows of bench_item read and written with plain
 * SQL through a pool, with a count of the SELECTs each pool sent.
 */
export class ItemTable {
  private readonly pool: pg.Pool
  reads = 0

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE })
  }

  /** `delayMs` makes the query cost that much more inside Postgres (an expensive query). */
  async read(id: number, delayMs = 0): Promise<ItemRow> {
    this.reads++
    const sql =
      delayMs > 0
        ? 'SELECT id, version FROM bench_item, pg_sleep($2::float8 / 1000) WHERE id = $1'
        : 'SELECT id, version FROM bench_item WHERE id = $1'
    const { rows } = await this.pool.query<ItemRow>(sql, delayMs > 0 ? [id, delayMs] : [id])
    if (rows[0] === undefined) throw new Error(`bench_item ${id} does not exist`)
    return { id: rows[0].id, version: rows[0].version }
  }

  /** version = version + 1, committed; resolves with the new version. */
  async bump(id: number): Promise<number> {
    const { rows } = await this.pool.query<{ version: number }>(
      'UPDATE bench_item SET version = version + 1 WHERE id = $1 RETURNING version',
      [id],
    )
    return rows[0]!.version
  }

  /** Opens `count` connections now, so no measured operation pays for connecting. */
  async warm(count = POOL_SIZE): Promise<void> {
    const clients = await Promise.all(Array.from({ length: count }, () => this.pool.connect()))
    for (const client of clients) client.release()
  }

  close(): Promise<void> {
    return this.pool.end()
  }
}
