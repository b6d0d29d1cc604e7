import type { StoreWrite } from '../store/types.js'
import {
  LOG_LENGTH,
  type LoggedBump,
  logClean,
  logRecord,
  type SettleReply,
  type SettleRequest,
  type WriteLog,
} from '../tags/write-log.js'

/** The synchronous key-value core of an in-process store. */
export interface SyncKv {
  read(key: string): string | undefined
  write(key: string, value: string, ttlMs: number | undefined): void
  remove(key: string): void
}

/** Table logs kept split per store (one per table and namespace). */
const PARSED_LOGS = 1_024
/**
 * A log is appended to in place and trimmed back to LOG_LENGTH records only once it holds twice
 * that many: rebuilding the whole 128-record string on every bump cost 8–13 µs and ~15 KB of
 * garbage per write. `logClean` consults only the newest LOG_LENGTH records, so a check sees
 * exactly the log a Redis LTRIM would leave.
 */
const TRIM_AT = 2 * LOG_LENGTH

/** A log as last written here: its stored value, and that value split into records. */
interface ParsedLog {
  value: string
  records: string[]
}

/**
 * The write log of a store whose operations run synchronously (memory): every call is applied
 * as a whole before any other, so each bump and each settle is atomic. A log is one value, its
 * records separated by newlines (tokens and store keys contain none).
 */
export function syncWriteLog(kv: SyncKv): WriteLog {
  const put = (writes: readonly StoreWrite[]) => {
    for (const write of writes) kv.write(write.key, write.value, write.ttlMs)
  }
  /**
   * Each log as last written here, split: a bump and every after-load settle read a table's
   * whole log, and splitting it each time was most of their cost. A log is used only while its
   * stored value is the very string written with it; evicted, expired or written by anyone
   * else, it is split again. One slot per table's log, dropped when the log is gone, and all of
   * them past PARSED_LOGS (many namespaces over one store): they are only a shortcut.
   */
  const parsed = new Map<string, ParsedLog>()
  const remember = (logKey: string, log: ParsedLog) => {
    if (parsed.size >= PARSED_LOGS && !parsed.has(logKey)) parsed.clear()
    parsed.set(logKey, log)
  }
  const logOf = (logKey: string): ParsedLog | undefined => {
    const value = kv.read(logKey)
    if (value === undefined) {
      parsed.delete(logKey)
      return undefined
    }
    const known = parsed.get(logKey)
    if (known !== undefined && known.value === value) return known
    const log = { value, records: value.split('\n') }
    remember(logKey, log)
    return log
  }
  const bump = (
    coarse: readonly StoreWrite[],
    logged: readonly LoggedBump[],
    fine: readonly StoreWrite[],
  ) => {
    put(coarse)
    for (const entry of logged) {
      const record = logRecord(entry, kv.read(entry.tagKey))
      const known = logOf(entry.logKey)
      if (known === undefined || known.records.length + 1 >= TRIM_AT) {
        // A new array: the one split for the old value is never changed under that value.
        const records = known === undefined ? [] : known.records.slice(1 - LOG_LENGTH)
        records.push(record)
        const value = records.join('\n')
        kv.write(entry.logKey, value, entry.ttlMs)
        remember(entry.logKey, { value, records })
      } else {
        const value = `${known.value}\n${record}`
        kv.write(entry.logKey, value, entry.ttlMs)
        // Extended in place once the longer value is stored, and only ever remembered with it:
        // `known` leaves the map here, so the old value is never answered with this array.
        known.records.push(record)
        remember(entry.logKey, { value, records: known.records })
      }
      kv.write(entry.tagKey, entry.token, entry.ttlMs)
    }
    put(fine)
  }
  return {
    async bump(coarse, logged, fine) {
      bump(coarse, logged, fine)
    },
    async bumpGuarded(coarse, logged, fine, guards, entry) {
      const held = guards.every((guard) => kv.read(guard.key) === guard.expected)
      bump(coarse, logged, fine)
      if (held) kv.write(entry.key, entry.value, entry.ttlMs)
      return held
    },
    async settle(request: SettleRequest): Promise<SettleReply> {
      const versions = request.keys.map((key, i) => {
        const known = kv.read(key)
        if (known !== undefined) return known
        const created = `${request.token}.${i}`
        kv.write(key, created, i === 0 ? undefined : request.tagTtlMs)
        return created
      })
      const fine = new Set([...request.keys.slice(1), ...request.watch])
      const clean =
        versions[0] === request.epoch &&
        request.tables.every((table) =>
          logClean(kv.read(table.tagKey), table.since, logOf(table.logKey)?.records ?? [], fine),
        )
      const fill = request.fill
      if (fill === undefined) return { versions, clean, filled: false }
      if (clean) {
        let head = fill.head
        for (let i = 1; i < versions.length; i++) head += ` ${versions[i]}`
        kv.write(fill.key, head + fill.rest, fill.ttlMs)
      }
      // Stored or refused, the lease goes with the settle, as on a Redis node.
      if (fill.lease !== undefined && kv.read(fill.lease.key) === fill.lease.owner) kv.remove(fill.lease.key)
      return { versions, clean, filled: clean, released: true }
    },
  }
}
