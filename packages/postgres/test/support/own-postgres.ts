import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

/**
 * A throwaway PostgreSQL cluster for tests that need server settings the shared server must not
 * have (wal_level=replica, a synchronous standby that never comes): initdb into a temp dir, run
 * `postgres` on a free port with trust auth, stop it by pid and delete the dir. As root (CI), the
 * server runs as the `postgres` OS user, since PostgreSQL refuses to run as root.
 */
export interface OwnPostgres {
  url: string
  stop(): Promise<void>
}

function binDir(): string | undefined {
  const candidates = [process.env.PG_BINDIR]
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim())
  } catch {
    // pg_config is not on PATH: try the Debian layout.
  }
  candidates.push('/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin')
  return candidates.find((dir) => dir !== undefined && existsSync(join(dir, 'initdb')))
}

/**
 * Why an own cluster cannot be started here, or undefined when it can. Under CI=true the caller
 * must fail with this reason instead of skipping.
 */
export function ownPostgresUnavailable(): string | undefined {
  if (binDir() === undefined)
    return 'initdb not found (set PG_BINDIR, put pg_config on PATH, or install postgresql-15)'
  if (process.getuid?.() === 0 && osUser() === undefined)
    return 'running as root and there is no `postgres` OS user to run a throwaway server as'
  return undefined
}

function osUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    return { uid, gid }
  } catch {
    return undefined
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export async function startOwnPostgres(settings: Record<string, string>): Promise<OwnPostgres> {
  const reason = ownPostgresUnavailable()
  if (reason !== undefined) throw new Error(`cannot start a throwaway PostgreSQL: ${reason}`)
  const bin = binDir()!
  const dir = mkdtempSync(join(tmpdir(), 'ormcache-pg-'))
  const data = join(dir, 'data')
  const user = process.getuid?.() === 0 ? osUser() : undefined
  const as = user === undefined ? {} : { uid: user.uid, gid: user.gid }
  if (user !== undefined) execFileSync('chown', [`${user.uid}:${user.gid}`, dir])
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'],
    {
      ...as,
      stdio: 'ignore',
    },
  )
  const port = await freePort()
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
  ]
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`)
  const server: ChildProcess = spawn(join(bin, 'postgres'), args, { ...as, stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()))
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const stop = async () => {
    // Fast shutdown of this server only, by its pid.
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    const client = new pg.Client({ connectionString: url })
    try {
      await client.connect()
      await client.end()
      return { url, stop }
    } catch (error) {
      await client.end().catch(() => {})
      if (server.exitCode !== null || Date.now() > deadline) {
        await stop()
        throw new Error(`the throwaway PostgreSQL did not start: ${(error as Error).message}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}
