import type {
  CacheStore,
  Guard,
  LeaseRef,
  LookupReply,
  LookupRequest,
  StoreWrite,
  VersionRead,
} from './types.js'

/**
 * The fused store operations the read and write paths use, with the store's own one-round-trip
 * version when it has one (Redis) and a composition of the basic methods otherwise (memory,
 * Memcached, custom stores). The compositions keep the protocol's meaning exactly: a missing
 * version is created with add (SET NX) and the winner re-read; they just take more round trips.
 */

export async function readVersions(store: CacheStore, request: VersionRead): Promise<string[]> {
  if (store.readVersions !== undefined) return store.readVersions(request)
  return createMissing(store, request, await store.getMany(request.keys))
}

/** A lookup composed from getMany never decides the lease (`leased` undefined). */
export async function lookupEntry(store: CacheStore, request: LookupRequest): Promise<LookupReply> {
  if (store.lookup !== undefined) return store.lookup(request)
  const keys = request.keys
  const count = keys.length
  const asked = new Array<string>(count + 1)
  asked[0] = request.entryKey
  for (let i = 0; i < count; i++) asked[i + 1] = keys[i]!
  const values = await store.getMany(asked)
  // The common hit: every version exists, so there is nothing to create and no promise per
  // version to wait for. Any absent one takes the composed path, each add guarded on its own.
  const versions = new Array<string>(count)
  for (let i = 0; i < count; i++) {
    const version = values[i + 1]
    if (version === undefined)
      return {
        entry: values[0],
        versions: await createMissing(store, request, values.slice(1)),
        leased: undefined,
      }
    versions[i] = version
  }
  return { entry: values[0], versions, leased: undefined }
}

export async function fillEntry(
  store: CacheStore,
  write: StoreWrite,
  lease: LeaseRef | undefined,
): Promise<void> {
  if (store.fill !== undefined) return store.fill(write, lease)
  // In this order: a waiter that saw the lease free before the value landed would load again.
  await store.set(write.key, write.value, write.ttlMs)
  // A release that fails only leaves the lease to expire on its own.
  if (lease !== undefined) await store.deleteIfEquals(lease.key, lease.owner).catch(() => false)
}

export async function bumpGuarded(
  store: CacheStore,
  writes: readonly StoreWrite[],
  guards: readonly Guard[],
  entry: StoreWrite,
): Promise<boolean> {
  if (store.bumpGuarded !== undefined) return store.bumpGuarded(writes, guards, entry)
  return composeBumpGuarded(store, writes, guards, entry)
}

/** bumpGuarded from compareAndSet and set: two round trips, same outcome. */
export async function composeBumpGuarded(
  store: CacheStore,
  writes: readonly StoreWrite[],
  guards: readonly Guard[],
  entry: StoreWrite,
): Promise<boolean> {
  const guarded = new Map(guards.map((guard) => [guard.key, guard.expected]))
  const outcomes = await Promise.all(
    writes.map(async (write) => {
      const expected = guarded.get(write.key)
      if (
        expected !== undefined &&
        (await store.compareAndSet(write.key, expected, write.value, write.ttlMs))
      )
        return true
      await store.set(write.key, write.value, write.ttlMs)
      return expected === undefined
    }),
  )
  if (!outcomes.every(Boolean) || guards.some((guard) => !writes.some((w) => w.key === guard.key)))
    return false
  await store.set(entry.key, entry.value, entry.ttlMs)
  return true
}

/** Creates the versions `read` lacks (add, then re-read the winner); index 0 is the epoch. */
export async function createMissing(
  store: CacheStore,
  { keys, token, tagTtlMs }: VersionRead,
  read: readonly (string | undefined)[],
): Promise<string[]> {
  return Promise.all(
    read.map(async (version, i) => {
      if (version !== undefined) return version
      const created = `${token}.${i}`
      const key = keys[i]!
      // The epoch (index 0) never expires: losing it would invalidate the whole namespace.
      if (await store.add(key, created, i === 0 ? undefined : tagTtlMs)) return created
      // Another process created it between our read and add; its token is the current one.
      // If it vanished again (eviction), fall back to ours: the entry will simply miss.
      return (await store.get(key)) ?? created
    }),
  )
}
