import { InvalidOptionError, ValueTooLargeError } from '../errors.js'
import { LruMap } from '../lru-map.js'
import type { CacheStore, StoreCapabilities, StoreWrite } from '../store/types.js'
import type { WriteLog } from '../tags/write-log.js'
import { knownKeys, optionsObject } from '../validate.js'
import { syncWriteLog } from './memory-write-log.js'

export interface MemoryStoreOptions {
  /** Most entries held before the least recently used is evicted. Default 10,000. */
  maxEntries?: number
  /** Most bytes (UTF-16 keys + values) held before eviction. Default 64 MiB. */
  maxBytes?: number
}

interface Slot {
  value: string
  /** Epoch ms, or 0 for no expiry. */
  expiresAt: number
  bytes: number
  touched: number
}

const SLOT_OVERHEAD = 64

/**
 * In-process LRU bounded by entries and bytes. It holds strings only, so callers can never
 * share or mutate a cached object. Expired slots are dropped lazily on access and by eviction.
 */
export class MemoryStore implements CacheStore {
  readonly name = 'memory'
  readonly capabilities: StoreCapabilities
  private readonly slots: LruMap<Slot>
  private readonly maxEntries: number
  private readonly maxBytes: number
  private bytes = 0

  constructor(options: MemoryStoreOptions = {}) {
    knownKeys('', optionsObject('options', options), ['maxEntries', 'maxBytes'])
    this.maxEntries = positiveInteger('maxEntries', options.maxEntries ?? 10_000)
    this.maxBytes = positiveInteger('maxBytes', options.maxBytes ?? 64 * 1024 * 1024)
    this.slots = new LruMap(this.maxEntries)
    this.capabilities = { shared: false, orderedBatches: true, maxValueBytes: this.maxBytes }
    this.writeLog = syncWriteLog({
      read: (key) => this.read(key),
      write: (key, value, ttlMs) => this.write(key, value, ttlMs),
      remove: (key) => this.remove(key),
    })
  }

  /** The per-table write log (write-log.ts); each call is atomic since the store is synchronous. */
  readonly writeLog: WriteLog

  /** Entries currently held (expired ones may still count until touched). */
  get size(): number {
    return this.slots.size
  }

  get usedBytes(): number {
    return this.bytes
  }

  async get(key: string): Promise<string | undefined> {
    return this.read(key)
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    return keys.map((key) => this.read(key))
  }

  /**
   * The plain read of a key expected to hit (read-path/plain-hit.ts): the entry, then each of
   * `keys`. The composed lookup of a store without scripts (store-ops.ts) reads the same values,
   * but it also parses the head of an entry stored under other tags (an after-load list: one
   * JSON array of its row tags) on every read and joins the lookup batch. A hit read plainly is
   * judged by the tags remembered for the key, with the head compared in place. Reads are
   * synchronous here, so the values are one consistent snapshot.
   */
  readHit(entryKey: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    return this.getMany([entryKey, ...keys])
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.write(key, value, ttlMs)
  }

  async setMany(entries: readonly StoreWrite[]): Promise<void> {
    for (const entry of entries) this.write(entry.key, entry.value, entry.ttlMs)
  }

  async add(key: string, value: string, ttlMs?: number): Promise<boolean> {
    if (this.read(key) !== undefined) return false
    this.write(key, value, ttlMs)
    return true
  }

  async compareAndSet(key: string, expected: string, value: string, ttlMs?: number): Promise<boolean> {
    if (this.read(key) !== expected) return false
    this.write(key, value, ttlMs)
    return true
  }

  async delete(key: string): Promise<void> {
    this.remove(key)
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    if (this.read(key) !== value) return false
    this.remove(key)
    return true
  }

  async close(): Promise<void> {
    this.slots.clear()
    this.bytes = 0
  }

  private read(key: string): string | undefined {
    const slot = this.slots.get(key)
    if (slot === undefined) return undefined
    if (slot.expiresAt !== 0 && slot.expiresAt <= Date.now()) {
      this.remove(key)
      return undefined
    }
    return slot.value
  }

  private write(key: string, value: string, ttlMs: number | undefined): void {
    const bytes = (key.length + value.length) * 2 + SLOT_OVERHEAD
    if (bytes > this.maxBytes) throw new ValueTooLargeError(key, bytes, this.maxBytes)
    const expiresAt = ttlMs === undefined ? 0 : Date.now() + Math.max(1, ttlMs)
    const replaced = this.slots.set(key, { value, expiresAt, bytes, touched: 0 })
    this.bytes += bytes - (replaced?.bytes ?? 0)
    this.evict()
  }

  private remove(key: string): void {
    const slot = this.slots.delete(key)
    if (slot !== undefined) this.bytes -= slot.bytes
  }

  private evict(): void {
    while (this.slots.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.slots.takeOldest()
      if (oldest === undefined) return
      this.bytes -= oldest.slot.bytes
    }
  }
}

export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options)
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new InvalidOptionError(name, 'must be a positive integer')
  return value
}
