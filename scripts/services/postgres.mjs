import { existsSync, readdirSync } from 'node:fs'
import { postgresPing, waitFor } from './probe.mjs'
import { run } from './run.mjs'

const PORT = 5432

export const postgres = {
  name: 'postgres',
  address: `127.0.0.1:${PORT}`,
  check: () => postgresPing(PORT),
  async up() {
    if (await postgresPing(PORT)) return 'already running'
    if (!existsSync('/etc/postgresql')) throw new Error('PostgreSQL is not installed (no /etc/postgresql)')
    const versions = readdirSync('/etc/postgresql').sort((a, b) => Number(b) - Number(a))
    if (versions.length === 0) throw new Error('no PostgreSQL cluster under /etc/postgresql')
    run('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0], 'main', 'start'])
    if (!(await waitFor(() => postgresPing(PORT), 30_000))) throw new Error('did not answer within 30 s')
    return `started (pg_ctlcluster ${versions[0]} main)`
  },
}
