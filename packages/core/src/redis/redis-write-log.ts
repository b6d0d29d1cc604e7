import type { Cluster, Redis } from 'ioredis'
import type { Guard, LeaseRef, StoreWrite } from '../store/types.js'
import {
  LOG_LENGTH,
  type LoggedBump,
  logKeys,
  type SettleReply,
  type SettleRequest,
  type WriteLog,
} from '../tags/write-log.js'
import { MGET_RANGE, runScript, script, WAKE_MESSAGE } from './redis-scripts.js'
import { keySlot } from './redis-slot.js'

/** SET with the ttl argument convention of the store's scripts ('' = no expiry). */
const PUT = `
local function put(key, value, ttl)
  if ttl == '' then redis.call('SET', key, value) else redis.call('SET', key, value, 'PX', ttl) end
end`

/**
 * KEYS: guard keys (g), coarse keys (c), then a table tag key and its log key per logged table
 * (l pairs), then fine keys (f), then the entry key when e = 1. ARGV: g, c, l, f, e, log length,
 * each guard's expected value, then value and ttl per coarse write, token, ttl and record per
 * logged table (the record's tag keys), value and ttl per fine write, then the entry's value and ttl. Every write is
 * applied, in that order, atomically; the entry only if every guard held before them (as
 * BUMP_GUARDED). Replies 1 when the entry was stored.
 */
export const LOG_BUMP = script(`${PUT}
local g, c, l, f, e, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local ok = 1
for i = 1, g do
  if redis.call('GET', KEYS[i]) ~= ARGV[6 + i] then ok = 0 end
end
local a = 6 + g
local k = g
for i = 1, c do put(KEYS[k + i], ARGV[a + 1], ARGV[a + 2]); a = a + 2 end
k = k + c
for i = 1, l do
  local tag, log = KEYS[k + 2 * i - 1], KEYS[k + 2 * i]
  redis.call('RPUSH', log, ARGV[a + 1] .. ' ' .. (redis.call('GET', tag) or '-') .. ' ' .. ARGV[a + 3])
  redis.call('LTRIM', log, -n, -1)
  if ARGV[a + 2] ~= '' then redis.call('PEXPIRE', log, ARGV[a + 2]) end
  put(tag, ARGV[a + 1], ARGV[a + 2])
  a = a + 3
end
k = k + 2 * l
for i = 1, f do put(KEYS[k + i], ARGV[a + 1], ARGV[a + 2]); a = a + 2 end
if e == 1 and ok == 1 then
  put(KEYS[k + f + 1], ARGV[a + 1], ARGV[a + 2])
  return 1
end
return 0`)

/**
 * clean(tag key, log key, since, fine set): the rule of write-log.ts logClean. The log is read
 * newest first, so a reader close behind the writers reads few records: the newest 16 first and
 * the older ones only when the walk gets past them. Reading all 128 records into Lua cost the
 * server ~45 µs per table and fill, most of an after-load fill's time; the verdict is the same
 * (the walk stops at the first record that decides it).
 */
const CLEAN = `
local CLEAN_CHUNK = 16
local function clean(tagKey, logKey, since, fine)
  local current = redis.call('GET', tagKey)
  if current == since then return true end
  if not current then return false end
  local records = redis.call('LRANGE', logKey, -CLEAN_CHUNK, -1)
  local newest = records[#records]
  if not newest or string.sub(newest, 1, #current + 1) ~= current .. ' ' then return false end
  local more = true
  while true do
    for i = #records, 1, -1 do
      local n = 0
      local previous
      for part in string.gmatch(records[i], '%S+') do
        n = n + 1
        if n == 2 then
          previous = part
        elseif n > 2 and (part == '*' or fine[part]) then
          return false
        end
      end
      if previous == since then return true end
    end
    if not more or #records < CLEAN_CHUNK then return false end
    -- Everything older than the chunk just walked (the log holds at most its bound), once.
    more = false
    records = redis.call('LRANGE', logKey, 0, -CLEAN_CHUNK - 1)
  end
end`

/**
 * Creates a missing version like VERSIONS (the epoch, index 0, without expiry). Reads and creates
 * KEYS[o + 1 .. o + k] into `versions`, with MGET: a list's fill reads a version per row, and a
 * GET per key cost the server several times the MGET of the same keys.
 */
const READ_VERSIONS = `${MGET_RANGE}
local function versionsOf(o, k, token, ttl)
  local versions = mgetRange(o + 1, o + k)
  for i = 1, k do
    local key = KEYS[o + i]
    local v = versions[i]
    if not v then
      v = token .. '.' .. (i - 1)
      if i == 1 then redis.call('SET', key, v) else redis.call('SET', key, v, 'PX', ttl) end
    end
    versions[i] = v
  end
  return versions
end`

/**
 * The after-load fill on one node. KEYS: entry, lease, waiters mark, epoch and fine version keys
 * (k), then table tag and log key pairs (t). ARGV: k, t, token, tag ttl, snapshot epoch, then
 * each table's since, then fill flag, head, rest, entry ttl, lease owner, wake channel, then
 * the watched keys.
 * Replies { clean, filled, released, versions... }: released is 1 when the fill (stored or
 * refused) let its lease go.
 */
export const SETTLE = script(`${PUT}${CLEAN}${READ_VERSIONS}
local k, t = tonumber(ARGV[1]), tonumber(ARGV[2])
local versions = versionsOf(3, k, ARGV[3], ARGV[4])
local fine = {}
for i = 2, k do fine[KEYS[3 + i]] = true end
for i = 12 + t, #ARGV do fine[ARGV[i]] = true end
local ok = versions[1] == ARGV[5]
if ok then
  for i = 1, t do
    if not clean(KEYS[3 + k + 2 * i - 1], KEYS[3 + k + 2 * i], ARGV[5 + i], fine) then ok = false; break end
  end
end
local a = 5 + t
local filled, released = 0, 0
if ok and ARGV[a + 1] == '1' then
  local parts = { ARGV[a + 2] }
  for i = 2, k do parts[#parts + 1] = versions[i] end
  -- The head line is made here (its versions are read here) and the rest appended in place: a
  -- Lua concatenation copied a list's whole payload once more (~50 µs for 36 KB). Same value.
  put(KEYS[1], table.concat(parts, ' '), ARGV[a + 4])
  redis.call('APPEND', KEYS[1], ARGV[a + 3])
  filled = 1
end
-- The lease goes in this same trip, stored or refused (not a DELETE_IF_EQUALS of its own).
if ARGV[a + 5] ~= '' then
  if redis.call('GET', KEYS[2]) == ARGV[a + 5] then redis.call('DEL', KEYS[2]) end
  released = 1
end
-- Marked waiters get the entry when it was stored, else a bare wake: they look again now rather
-- than at their fallback poll. A refused fill without a lease leaves them to the lease's holder.
if (filled == 1 or released == 1) and redis.call('DEL', KEYS[3]) == 1 then
  local wake = #KEYS[1] .. ':' .. KEYS[1]
  if filled == 1 then
    local stored = redis.call('GET', KEYS[1])
    wake = ${WAKE_MESSAGE('KEYS[1]', 'stored')}
  end
  redis.call('PUBLISH', ARGV[a + 6], wake)
end
local reply = { ok and 1 or 0, filled, released }
for i = 1, k do reply[#reply + 1] = versions[i] end
return reply`)

/** One table's log check on a Cluster: KEYS tag key, log key (one slot); ARGV since, fine keys. */
export const CHECK = script(`${CLEAN}
local fine = {}
for i = 2, #ARGV do fine[ARGV[i]] = true end
if clean(KEYS[1], KEYS[2], ARGV[1], fine) then return 1 end
return 0`)

export interface RedisLogHost {
  client: Redis | Cluster
  cluster: boolean
  setMany(entries: readonly StoreWrite[]): Promise<void>
  readVersions(request: { keys: readonly string[]; token: string; tagTtlMs: number }): Promise<string[]>
  fill(write: StoreWrite, lease: LeaseRef | undefined): Promise<void>
  bumpGuarded(writes: readonly StoreWrite[], guards: readonly Guard[], entry: StoreWrite): Promise<boolean>
  pxArg(ttlMs: number | undefined): string
  wakeChannel: string
}

/**
 * The write log on Redis. One node: a bump (write-through's guarded one too) is one script, an after-load fill is one script that
 * checks and stores. Cluster: each table tag shares its log's slot (KeySpace.log), so a logged
 * bump is one script per table, sent with the other coarse writes; the fine writes follow once
 * those are acknowledged. An after-load fill reads the fine versions, then (after they returned)
 * checks each table's log in its slot, then stores the entry.
 */
export function redisWriteLog(host: RedisLogHost): WriteLog {
  const run = (s: typeof LOG_BUMP, keys: readonly string[], args: readonly string[]) =>
    runScript(host.client, s, keys, args)
  const bumpArgs = (
    coarse: readonly StoreWrite[],
    logged: readonly LoggedBump[],
    fine: readonly StoreWrite[],
    guards: readonly Guard[] = [],
    entry?: StoreWrite,
  ) => {
    const keys = guards.map((guard) => guard.key)
    const args = [guards.length, coarse.length, logged.length, fine.length, entry === undefined ? 0 : 1]
      .map(String)
      .concat(String(LOG_LENGTH), ...guards.map((guard) => guard.expected))
    for (const w of coarse) {
      keys.push(w.key)
      args.push(w.value, host.pxArg(w.ttlMs))
    }
    for (const b of logged) {
      keys.push(b.tagKey, b.logKey)
      args.push(b.token, host.pxArg(b.ttlMs), logKeys(b))
    }
    for (const w of [...fine, ...(entry === undefined ? [] : [entry])]) {
      keys.push(w.key)
      args.push(w.value, host.pxArg(w.ttlMs))
    }
    return { keys, args }
  }
  const bump = async (
    coarse: readonly StoreWrite[],
    logged: readonly LoggedBump[],
    fine: readonly StoreWrite[],
  ) => {
    if (!host.cluster) {
      const { keys, args } = bumpArgs(coarse, logged, fine)
      await run(LOG_BUMP, keys, args)
      return
    }
    // Coarse writes and logged tables first, all acknowledged before any fine write is sent.
    await Promise.all([
      host.setMany(coarse),
      ...logged.map((b) => {
        const { keys, args } = bumpArgs([], [b], [])
        return run(LOG_BUMP, keys, args)
      }),
    ])
    await host.setMany(fine)
  }
  return {
    bump,
    async bumpGuarded(coarse, logged, fine, guards, entry) {
      if (host.cluster) {
        await bump(coarse, logged, [])
        return host.bumpGuarded(fine, guards, entry)
      }
      const { keys, args } = bumpArgs(coarse, logged, fine, guards, entry)
      return (await run(LOG_BUMP, keys, args)) === 1
    },
    async settle(request: SettleRequest): Promise<SettleReply> {
      if (!host.cluster) return settleOne(request)
      const versions = await host.readVersions(request)
      const fine = [...request.keys.slice(1), ...request.watch]
      const dirty = await Promise.all(
        request.tables.map(async (table) => {
          if (keySlot(table.tagKey) !== keySlot(table.logKey)) return true
          return (await run(CHECK, [table.tagKey, table.logKey], [table.since, ...fine])) !== 1
        }),
      )
      const clean = versions[0] === request.epoch && !dirty.some(Boolean)
      const fill = request.fill
      if (!clean || fill === undefined) return { versions, clean, filled: false }
      const value = [fill.head, ...versions.slice(1)].join(' ') + fill.rest
      await host.fill({ key: fill.key, value, ttlMs: fill.ttlMs }, fill.lease)
      return { versions, clean, filled: true }
    },
  }

  async function settleOne(request: SettleRequest): Promise<SettleReply> {
    const fill = request.fill
    const entryKey = fill?.key ?? '{settle}:nofill'
    const keys = [entryKey, fill?.lease?.key ?? `{${entryKey}}:nolease`, `{${entryKey}}:w`, ...request.keys]
    const args = [String(request.keys.length), String(request.tables.length), request.token]
    args.push(host.pxArg(request.tagTtlMs), request.epoch)
    for (const table of request.tables) {
      keys.push(table.tagKey, table.logKey)
      args.push(table.since)
    }
    args.push(fill === undefined ? '0' : '1', fill?.head ?? '', fill?.rest ?? '', host.pxArg(fill?.ttlMs))
    args.push(fill?.lease?.owner ?? '', host.wakeChannel, ...request.watch)
    const reply = (await run(SETTLE, keys, args)) as [number, number, number, ...string[]]
    return {
      clean: reply[0] === 1,
      filled: reply[1] === 1,
      released: reply[2] === 1,
      versions: reply.slice(3) as string[],
    }
  }
}
