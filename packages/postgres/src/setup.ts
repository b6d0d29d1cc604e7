import type { Client } from 'pg'
import { describe, ReplicationError } from './errors.js'
import type { ResolvedOptions } from './options.js'

/**
 * Checks the server can stream changes and creates the publication and slot when missing.
 * Idempotent: an existing publication or slot is used as it is. Returns true if the slot was created.
 */
export async function ensureReplication(client: Client, options: ResolvedOptions): Promise<boolean> {
  const { rows: level } = await client.query<{ wal_level: string }>('SHOW wal_level')
  if (level[0]?.wal_level !== 'logical')
    throw new ReplicationError(
      'wal_level',
      `PostgreSQL's wal_level is "${level[0]?.wal_level}", logical replication needs "logical" (ALTER SYSTEM SET wal_level = logical, then restart the server)`,
    )
  const { rows: role } = await client.query<{ ok: boolean }>(
    'SELECT rolreplication OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user',
  )
  if (role[0]?.ok !== true)
    throw new ReplicationError(
      'privilege',
      'the database role lacks the REPLICATION attribute (ALTER ROLE <role> WITH REPLICATION)',
    )
  const { rowCount: publications } = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [
    options.publication,
  ])
  if (publications === 0) {
    const target =
      options.tables === undefined
        ? 'FOR ALL TABLES'
        : `FOR TABLE ${options.tables.map((t) => t.split('.').map(quote).join('.')).join(', ')}`
    try {
      await client.query(`CREATE PUBLICATION ${quote(options.publication)} ${target}`)
    } catch (error) {
      // A concurrent consumer created it first.
      if ((error as { code?: string }).code !== '42710') {
        const privilege = (error as { code?: string }).code === '42501'
        throw new ReplicationError(
          privilege ? 'privilege' : 'connection',
          `cannot create publication "${options.publication}": ${describe(error)}`,
          { cause: error },
        )
      }
    }
  }
  return createSlot(client, options.slot)
}

export async function createSlot(client: Client, slot: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])
  if (rowCount !== 0) return false
  try {
    await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot])
    return true
  } catch (error) {
    if ((error as { code?: string }).code === '42710') return false // created concurrently
    throw new ReplicationError('connection', `cannot create slot "${slot}": ${describe(error)}`, {
      cause: error,
    })
  }
}

/** Drops the slot (so the server stops retaining WAL for it) and the publication. */
export async function dropReplication(client: Client, slot: string, publication: string): Promise<void> {
  await client.query(
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  )
  await client.query(`DROP PUBLICATION IF EXISTS ${quote(publication)}`)
}

export const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`
