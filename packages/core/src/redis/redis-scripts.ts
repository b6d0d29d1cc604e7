import crypto from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { MAX_DIRECT } from '../query-key.js'
import { corkUntilImmediates } from './redis-cork.js'
import { isSingleNode, sendNow } from './redis-direct.js'

/**
 * Lua scripts of the Redis store. Each one touches only the keys it declares; on a Cluster the
 * store sends only scripts whose keys share one slot (entry and lease share the entry's slot
 * through the lease key's hash tag; version keys are grouped per slot).
 */

export interface Script {
  source: string
  sha: string
}

/**
 * KeySpace.tag's direct form, in Lua: a tag of at most MAX_DIRECT characters, all in SAFE
 * (query-key.ts; a test checks both agree), is stored under prefix .. tag; every other tag is
 * hashed, which a script cannot redo, so LOOKUP leaves such entries to the caller.
 */
const SAFE_LUA = '[A-Za-z0-9._:/|@#=+,%-]'
const MAX_DIRECT_TAG = MAX_DIRECT
/** The start of an entry LOOKUP reads when it needs only the head (two lines; see LOOKUP). */
const HEAD_BYTES = 8192
/** More own tags than this (Lua's unpack limit is ~8000) are judged by the caller. */
const MAX_OWN_TAGS = 4000

export const script = (source: string): Script => ({
  source,
  sha: crypto.createHash('sha1').update(source).digest('hex'),
})

/** EVALSHA, falling back to EVAL (which also loads the script) on a node that lacks it. */
export async function runScript(
  client: Redis | Cluster,
  script: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  corkUntilImmediates(client)
  const single = isSingleNode(client)
  try {
    return single
      ? await sendNow(client, 'evalsha', [script.sha, keys.length, ...keys, ...args])
      : await client.evalsha(script.sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return single
      ? sendNow(client, 'eval', [script.source, keys.length, ...keys, ...args])
      : client.eval(script.source, keys.length, ...keys, ...args)
  }
}

/**
 * Takes the lease KEYS[2] for owner `owner` (ms `ttl`): 1 taken (or already ours), 0 held by
 * another, who then finds the waiters mark KEYS[3] set and announces its fill.
 */
const TAKE_LEASE = (owner: string, ttl: string) => `
  if redis.call('SET', KEYS[2], ${owner}, 'NX', 'PX', ${ttl}) then
    leased = 1
  elseif redis.call('GET', KEYS[2]) == ${owner} then
    leased = 1
  else
    leased = 0
    redis.call('SET', KEYS[3], '1', 'PX', ${ttl})
  end`

/**
 * The wake message for a filled entry: `<key length>:<key>`, followed by the entry itself when it
 * is small enough, so a waiter whose snapshot matches it needs no second lookup (redis-wake.ts).
 * The length prefix keeps any key unambiguous.
 */
export const WAKE_INLINE_BYTES = 65_536
export const WAKE_MESSAGE = (key: string, value: string) =>
  `#${key} .. ':' .. ${key} .. (#${value} <= ${WAKE_INLINE_BYTES} and ${value} or '')`

/**
 * Creates a missing version (`v` false) as `ARGV[1] .. '.' .. index`: the namespace epoch
 * (index '0') without expiry, tags with ARGV[2] ms. Atomic with the read, like add + re-read.
 */
const CREATE_VERSION = `
if not v then
  v = ARGV[1] .. '.' .. index
  if index == '0' then redis.call('SET', key, v) else redis.call('SET', key, v, 'PX', ARGV[2]) end
end`

/**
 * mgetRange(first, last): MGET of KEYS[first..last], in chunks, because Lua's unpack stops at
 * about 8000 values and a list's after-load tags are one per row (a bigger list failed its lookup
 * and its fill, and so was never served from the cache). Missing keys are false, as in one MGET.
 */
export const MGET_RANGE = `
local function mgetRange(first, last)
  local out, n = {}, 0
  for from = first, last, 4000 do
    local got = redis.call('MGET', unpack(KEYS, from, math.min(last, from + 3999)))
    for i = 1, #got do
      n = n + 1
      out[n] = got[i]
    end
  end
  return out
end`

/** KEYS: version keys. ARGV: token, tag ttl, then each key's index in the caller's list. */
export const VERSIONS = script(`${MGET_RANGE}
local out = mgetRange(1, #KEYS)
for i = 1, #KEYS do
  local key, index, v = KEYS[i], ARGV[2 + i], out[i]
  ${CREATE_VERSION}
  out[i] = v
end
return out`)

/**
 * VERSIONS on a Redis Cluster, where a shard can lose writes without the client's connection
 * noticing (docs/design.md, "Stores that lose writes", Cluster). KEYS: n version keys, then each
 * one's life key (same slot). ARGV: token, tag ttl, life ttl ('' = none), each key's index.
 *
 * The server names its own life (run id: new on every start; master replid: new on every
 * promotion) from INFO inside the script, so the judgment binds to the very server that answers,
 * whatever the client believes the topology is. A version whose life key names another life (or
 * none) may have been rolled back: it is replaced by a fresh one, so no entry written before
 * matches it, and its life key takes this life. Returns the n versions, then this life if a
 * version stamped by another life was replaced (the store lost writes), else ''.
 */
export const VERSIONS_LIFE = script(`${MGET_RANGE}
local n = #KEYS / 2
local read = mgetRange(1, #KEYS)
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)')
if not run or not replid then return redis.error_reply('ERR ormcache: INFO shows no run_id or master_replid') end
local life = string.sub(run, 1, 16) .. string.sub(replid, 1, 16)
local out, lost = {}, ''
for i = 1, n do
  local key, index, v, seen = KEYS[i], ARGV[3 + i], read[i], read[n + i]
  if seen ~= life then
    if v and seen then lost = life end
    v = false
    if ARGV[3] == '' or index == '0' then redis.call('SET', KEYS[n + i], life)
    else redis.call('SET', KEYS[n + i], life, 'PX', ARGV[3]) end
  end
  ${CREATE_VERSION}
  out[i] = v
end
out[n + 1] = lost
return out`)

/**
 * The whole read of a wrap on a single node. KEYS: entry, lease, waiters, then the version keys
 * (the namespace epoch first). A caller that finds the lease held marks the waiters key, so the
 * holder's FILL wakes it over pub/sub. ARGV: token, tag ttl, lease owner ('' = no lease), lease ttl,
 * tag key prefix ('' = do not judge own tags).
 * Returns { entry or its head, leased (1 taken or ours, 0 held by another, -1 not tried),
 * own (1 current by its own tags, 0 dead by them, -1 not judged here), versions… }.
 * An entry whose head (line 1 of entry.ts's layout) shows it is dead (see below) comes back as
 * its two head lines only, and the lease is taken for the caller's load.
 *
 * An entry stored under other tags than the caller asks for (an afterLoad list: its pins plus
 * the rows it loaded) is judged here by its own tags, read in the same atomic script: their
 * names are on head line 2, and a tag's version key is ARGV[5] .. tag whenever the tag is a
 * direct key (query-key.ts KeySpace.tag: at most MAX_DIRECT characters of SAFE). So a hit sends
 * only the asked tags' keys, not every row tag of the list (a 10 x 5 team list: ~750 bytes
 * instead of ~3.6 KB per hit). An entry with a tag that is not a direct key (hashed) or with too
 * many tags is left to the caller, as before. These version keys are not declared in KEYS: a
 * single node allows that; the Cluster never runs this script (LOOKUP_ENTRY + VERSIONS_LIFE).
 */
export const LOOKUP = script(`${MGET_RANGE}
-- 1 when every own tag's version (names on head line 2) equals the head's, 0 when one differs
-- or is missing, -1 when they cannot be read here (not direct keys, or a malformed head).
local function ownTags(raw, nl, count, prefix)
  local second = string.find(raw, '\\n', nl + 1, true)
  local ok, meta = pcall(cjson.decode, string.sub(raw, nl + 1, second and second - 1 or #raw))
  if not ok or type(meta) ~= 'table' or type(meta[2]) ~= 'table' or #meta[2] ~= count then return -1 end
  local keys = {}
  for i = 1, count do
    local tag = meta[2][i]
    if type(tag) ~= 'string' or #tag > ${MAX_DIRECT_TAG} or not string.find(tag, '^${SAFE_LUA}+$') then return -1 end
    keys[i] = prefix .. tag
  end
  if count == 0 then return 1 end
  local got = redis.call('MGET', unpack(keys))
  local i = 0
  for field in string.gmatch(string.sub(raw, 1, nl - 1), '[^ ]+') do
    i = i + 1
    if i >= 4 and got[i - 3] ~= field then return 0 end
  end
  return 1
end
-- The first two lines of an entry (its head), or nil when it has fewer.
local function headOf(raw)
  local nl = string.find(raw, '\\n', 1, true)
  local second = nl and string.find(raw, '\\n', nl + 1, true)
  return second and string.sub(raw, 1, second - 1)
end
local own = -1
local raw
if ARGV[6] == '1' then
  -- Presumed dead (below): only its head is used, so read the start of it. A list's payload
  -- read into Lua cost ~45 µs for 36 KB; a head that does not fit is read whole, as before.
  raw = headOf(redis.call('GETRANGE', KEYS[1], 0, ${HEAD_BYTES - 1}))
  if not raw then
    raw = redis.call('GET', KEYS[1])
    if raw then raw = headOf(raw) or raw end
  end
else
  raw = redis.call('GET', KEYS[1])
end
local versions = mgetRange(4, #KEYS)
for i = 4, #KEYS do
  local key, index, v = KEYS[i], tostring(i - 4), versions[i - 3]
  ${CREATE_VERSION}
  versions[i - 3] = v
end
local dead = not raw
-- The caller presumes a present entry dead (ARGV[6] = '1': it moved one of the entry's own tags
-- since it saw it current, and sent only the asked tags): its head is all that travels.
local presumed = raw and ARGV[6] == '1'
if presumed then dead = true end
-- The common case first: a current entry's head is exactly 'ormcache/2 <freshUntil> ' followed
-- by the current versions and a newline; one comparison, no parsing.
local current = false
if raw and not presumed and string.sub(raw, 1, 11) == 'ormcache/2 ' then
  local gap = string.find(raw, ' ', 12, true)
  local expected = table.concat(versions, ' ') .. '\\n'
  current = gap ~= nil and string.sub(raw, gap + 1, gap + #expected) == expected
end
if raw and not current and not presumed then
  local nl = string.find(raw, '\\n', 1, true)
  local n, magic, differs, epochDiffers = 0, false, false, false
  if nl then
    for field in string.gmatch(string.sub(raw, 1, nl - 1), '[^ ]+') do
      n = n + 1
      if n == 1 then
        magic = field == 'ormcache/2'
        if not magic then break end
      elseif n >= 3 and versions[n - 2] ~= field then
        differs = true
        if n == 3 then epochDiffers = true end
      end
    end
  end
  -- Dead for sure: not an entry, or another namespace epoch. Otherwise the entry is judged by
  -- its own tags where they are direct keys; where not, other versions of as many tags as asked
  -- are taken as dead, and an entry of other tags (a plain get) is left for the caller to judge.
  dead = not magic or epochDiffers
  if not dead then
    if ARGV[5] ~= '' and n - 3 <= ${MAX_OWN_TAGS} then own = ownTags(raw, nl, n - 3, ARGV[5]) end
    if own == -1 then dead = differs and n - 2 == #versions else dead = own == 0 end
  end
  if dead and magic then raw = headOf(raw) or raw end
end
local leased = -1
if dead and ARGV[3] ~= '' then${TAKE_LEASE('ARGV[3]', 'ARGV[4]')}
end
local out = { raw, leased, own }
for i = 1, #versions do out[i + 3] = versions[i] end
return out`)

/**
 * The entry half of a lookup on a Cluster (version keys live in other slots). KEYS: entry, lease,
 * waiters.
 * ARGV: lease owner ('' = none), lease ttl. Takes the lease only for an absent entry; a present
 * one is judged by the caller, who takes the lease separately if it turns out to be dead.
 */
export const LOOKUP_ENTRY = script(`
local raw = redis.call('GET', KEYS[1])
local leased = -1
if not raw and ARGV[1] ~= '' then${TAKE_LEASE('ARGV[1]', 'ARGV[2]')}
end
return { raw, leased }`)

/**
 * KEYS: entry, lease, waiters. ARGV: value, ttl ('' = none), lease owner ('' = no lease to
 * release), wake channel. Announces the entry on the wake channel only if a waiter marked it.
 */
export const FILL = script(`
if ARGV[2] == '' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
if redis.call('DEL', KEYS[3]) == 1 then redis.call('PUBLISH', ARGV[4], ${WAKE_MESSAGE('KEYS[1]', 'ARGV[1]')}) end
return 1`)

/**
 * Write-through's commit on a single node. KEYS: guard keys, write keys, entry key.
 * ARGV: guard count, write count, each guard's expected value, each write's value and ttl,
 * the entry's value and ttl. Every write is applied; the entry only if every guard held.
 */
export const BUMP_GUARDED = script(`
local g, w = tonumber(ARGV[1]), tonumber(ARGV[2])
local ok = 1
for i = 1, g do
  if redis.call('GET', KEYS[i]) ~= ARGV[2 + i] then ok = 0 end
end
local function put(key, value, ttl)
  if ttl == '' then redis.call('SET', key, value) else redis.call('SET', key, value, 'PX', ttl) end
end
local a = 2 + g
for i = 1, w do put(KEYS[g + i], ARGV[a + 2 * i - 1], ARGV[a + 2 * i]) end
if ok == 1 then put(KEYS[g + w + 1], ARGV[a + 2 * w + 1], ARGV[a + 2 * w + 2]) end
return ok`)

export const COMPARE_AND_SET = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`)

export const DELETE_IF_EQUALS = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`)
