import type { Client } from 'pg'

/**
 * Primary-key columns by table oid, read from the catalog when a Relation message announces a
 * table (again after any change of its definition, since PostgreSQL then resends the message).
 * Row tags need the primary key, which pgoutput does not send: its key flags mark the replica
 * identity, which is every column under REPLICA IDENTITY FULL.
 */
export class PrimaryKeys {
  private readonly keys = new Map<number, readonly string[]>()

  constructor(private readonly client: () => Client) {}

  forget(oid: number): void {
    this.keys.delete(oid)
  }

  async of(oid: number): Promise<readonly string[]> {
    const known = this.keys.get(oid)
    if (known !== undefined) return known
    const { rows } = await this.client().query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1 AND i.indisprimary ORDER BY a.attnum`,
      [oid],
    )
    const key = rows.map((r) => r.name)
    this.keys.set(oid, key)
    return key
  }
}
