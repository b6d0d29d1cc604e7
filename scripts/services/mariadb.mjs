import { mkdirSync } from 'node:fs'
import { mysqlPing, waitFor } from './probe.mjs'
import { hasBinary, run } from './run.mjs'

const PORT = 3306
const DAEMON = '/usr/sbin/mariadbd'

export const mariadb = {
  name: 'mariadb',
  address: `127.0.0.1:${PORT}`,
  check: () => mysqlPing(PORT),
  async up() {
    if (await mysqlPing(PORT)) return 'already running'
    if (!hasBinary(DAEMON)) throw new Error(`MariaDB is not installed (no ${DAEMON})`)
    // The socket directory lives on a tmpfs that a reboot empties.
    mkdirSync('/run/mysqld', { recursive: true })
    run('chown', ['mysql:mysql', '/run/mysqld'], { allowFailure: true })
    run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', DAEMON])
    if (!(await waitFor(() => mysqlPing(PORT), 60_000))) throw new Error('did not greet within 60 s')
    return 'started'
  },
}
