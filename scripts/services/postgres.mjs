import { existsSync, readdirSync } from 'node:fs'
import { postgresPing, waitFor } from './probe.mjs'
import { run } from './run.mjs'

const PORT = 5432
// @ormcache/postgres consumes logical replication: the server needs wal_level = logical and room
// for the slots and WAL senders its tests and the demo open (one each per consumer).
const REPLICATION = { wal_level: 'logical', max_replication_slots: 20, max_wal_senders: 20 }

function newestCluster() {
  if (!existsSync('/etc/postgresql')) throw new Error('PostgreSQL is not installed (no /etc/postgresql)')
  const versions = readdirSync('/etc/postgresql').sort((a, b) => Number(b) - Number(a))
  if (versions.length === 0) throw new Error('no PostgreSQL cluster under /etc/postgresql')
  return versions[0]
}

const psql = (sql) =>
  run('psql', ['-h', '127.0.0.1', '-p', String(PORT), '-U', 'postgres', '-d', 'postgres', '-Atqc', sql])
    .output

/**
 * Sets the replication settings that are missing and restarts the cluster only when one of them
 * is not yet active, so a configured server is never restarted. Returns a phrase for the report.
 */
async function configureReplication() {
  const missing = Object.entries(REPLICATION).filter(([name, wanted]) => {
    const current = psql(`SHOW ${name}`)
    return typeof wanted === 'number' ? Number(current) < wanted : current !== wanted
  })
  if (missing.length === 0) return undefined
  for (const [name, value] of missing)
    psql(`ALTER SYSTEM SET ${name} = ${typeof value === 'number' ? value : `'${value}'`}`)
  const version = newestCluster()
  run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'])
  if (!(await waitFor(() => postgresPing(PORT), 30_000)))
    throw new Error('did not answer within 30 s after restart')
  return `restarted with ${missing.map(([name, value]) => `${name}=${value}`).join(', ')}`
}

export const postgres = {
  name: 'postgres',
  address: `127.0.0.1:${PORT}`,
  check: () => postgresPing(PORT),
  async up() {
    let started
    if (!(await postgresPing(PORT))) {
      const version = newestCluster()
      run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'])
      if (!(await waitFor(() => postgresPing(PORT), 30_000))) throw new Error('did not answer within 30 s')
      started = `started (pg_ctlcluster ${version} main)`
    }
    const configured = await configureReplication()
    return [started ?? 'already running', configured].filter(Boolean).join(', ')
  },
}
