import { script } from '../redis/redis-scripts.js'

/**
 * Lua for the write-behind Stream queue. Every key a script touches shares one hash tag
 * (`{<namespace>:wb:<name>}`), so each script runs on one Cluster node, atomically. Scripts that
 * take per-key lock keys list them from KEYS[3] on, with the matching id/key pairs in ARGV.
 */

/** XADD and "this id is now the key's latest write" in one step: coalescing has no gap. */
const ENQUEUE = `
local id = redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 'v', ARGV[2], 'g', ARGV[3], 't', ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], id)
return id`

/**
 * KEYS: latest, stream, lock per entry. ARGV: group, owner, lockMs, then id, key per entry.
 * 0 = stale (a newer write exists or this one was applied: acked and deleted here, and the
 * owner's lock on its key released so the newer write's flusher need not wait for it to expire),
 * 1 = locked by owner, 2 = busy (another consumer holds the key's lock). Stale entries are
 * handled first, so an older and a newer entry of one key in one call end with the lock taken.
 */
const LOCK = `
local out = {}
for i = 3, #KEYS do
  local id = ARGV[2 * i - 2]
  if redis.call('HGET', KEYS[1], ARGV[2 * i - 1]) ~= id then
    redis.call('XACK', KEYS[2], ARGV[1], id)
    redis.call('XDEL', KEYS[2], id)
    if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
    out[i - 2] = 0
  end
end
for i = 3, #KEYS do
  if out[i - 2] == nil then
    local holder = redis.call('GET', KEYS[i])
    if holder and holder ~= ARGV[2] then
      out[i - 2] = 2
    else
      redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[3])
      out[i - 2] = 1
    end
  end
end
return out`

/**
 * KEYS: latest, stream, lock per entry. ARGV: group, owner, then id, key per entry.
 * Acks and deletes each entry, releases its lock, and clears the key's latest marker if it is
 * still this entry (1) — otherwise a newer write is waiting (0).
 */
const COMPLETE = `
local out = {}
for i = 3, #KEYS do
  local id = ARGV[2 * i - 3]
  local key = ARGV[2 * i - 2]
  redis.call('XACK', KEYS[2], ARGV[1], id)
  redis.call('XDEL', KEYS[2], id)
  if redis.call('HGET', KEYS[1], key) == id then
    redis.call('HDEL', KEYS[1], key)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
end
return out`

/**
 * KEYS: dead list, stream, lock per entry. ARGV: group, owner, then id, record per entry.
 * The latest marker is kept, so an older entry claimed later is still recognised as stale and a
 * replay can tell whether a newer write arrived since.
 */
const DEAD_LETTER = `
for i = 3, #KEYS do
  local id = ARGV[2 * i - 3]
  redis.call('RPUSH', KEYS[1], ARGV[2 * i - 2])
  redis.call('XACK', KEYS[2], ARGV[1], id)
  redis.call('XDEL', KEYS[2], id)
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
end
return 1`

/** KEYS: stream, lock per entry. ARGV: group, owner, lockMs, then one id per entry. */
const KEEP_ALIVE = `
local out = {}
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2] then
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i + 2], 'JUSTID')
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out`

/** KEYS: dead list, latest, stream. ARGV: record, key, old id, payload, tags, writtenAt. */
const REPLAY = `
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 'gone' end
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return 'superseded' end
local id = redis.call('XADD', KEYS[3], '*', 'k', ARGV[2], 'v', ARGV[4], 'g', ARGV[5], 't', ARGV[6])
redis.call('HSET', KEYS[2], ARGV[2], id)
return 'replayed'`

export const STREAM_SCRIPTS = {
  enqueue: script(ENQUEUE),
  lock: script(LOCK),
  complete: script(COMPLETE),
  deadLetter: script(DEAD_LETTER),
  keepAlive: script(KEEP_ALIVE),
  replay: script(REPLAY),
}
