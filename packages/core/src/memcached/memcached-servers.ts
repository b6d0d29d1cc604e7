import { InvalidOptionError } from '../errors.js'
import { redactCredentials } from '../redact.js'

export interface ServerAddress {
  /** "host:port" as the ring names it (IPv6 hosts keep their brackets). */
  id: string
  host: string
  port: number
  username?: string
  password?: string
}

const SERVER = /^(?:([^:@/]*)(?::([^@/]*))?@)?(\[[0-9a-fA-F:.]+\]|[^:@/[\]\s]+)(?::(\d{1,5}))?$/

/** Parses "host[:port]" entries (optionally "user:pass@host:port"), comma-separated or as a list. */
export function parseServers(servers: string | readonly string[]): ServerAddress[] {
  const list = (typeof servers === 'string' ? servers.split(',') : [...servers]).map((s) =>
    typeof s === 'string' ? s.trim() : s,
  )
  if (list.length === 0 || list.some((s) => typeof s !== 'string' || s === '')) {
    throw new InvalidOptionError('servers', 'must be "host:port" strings, e.g. "127.0.0.1:11211"')
  }
  const parsed = list.map((entry) => {
    const match = SERVER.exec(entry)
    const port = Number(match?.[4] ?? 11211)
    if (!match || port < 1 || port > 65535) {
      throw new InvalidOptionError(
        'servers',
        `cannot parse "${redactCredentials(entry)}"; expected [user:pass@]host[:port]`,
      )
    }
    const rawHost = match[3]!
    const address: ServerAddress = {
      id: `${rawHost}:${port}`,
      host: rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost,
      port,
    }
    if (match[1]) address.username = decodeURIComponent(match[1])
    if (match[2]) address.password = decodeURIComponent(match[2])
    return address
  })
  const ids = parsed.map((s) => s.id)
  const twice = ids.find((id, i) => ids.indexOf(id) !== i)
  if (twice !== undefined) throw new InvalidOptionError('servers', `lists ${twice} twice`)
  return parsed
}
