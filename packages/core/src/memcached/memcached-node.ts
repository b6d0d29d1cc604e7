import type memjs from 'memjs'
import { loadPeer } from '../store/peer.js'
import { type MemjsInternals, MultiGet } from './memcached-multiget.js'

/** memjs's request framing; loaded when first needed, like every use of the optional peer. */
const utils = () => loadPeer<typeof memjs>('memjs', '@ormcache/core/memcached').Utils

/** Binary-protocol opcodes and statuses this store uses (memcached's protocol_binary.h). */
export const Opcode = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04, noop: 0x0a, getkq: 0x0d } as const
export const Status = { ok: 0x00, notFound: 0x01, exists: 0x02, tooLarge: 0x03, notStored: 0x05 } as const

const STATUS_NAMES: Record<number, string> = {
  4: 'invalid arguments',
  6: 'incr/decr on a non-numeric value',
  8: 'authentication error',
  129: 'unknown command',
  130: 'out of memory',
  131: 'not supported',
  132: 'internal error',
  133: 'busy',
  134: 'temporary failure',
}

/** An item as read, with the CAS unique that a later conditional write or delete must match. */
export interface Item {
  value: string
  cas: Buffer
}

/**
 * One memjs client addressed by the binary protocol directly. memjs 1.3's get/set/delete hide
 * the CAS field (its source says "TODO: support version (CAS)"), but its public `perform`
 * sends any request we frame, and memcached honours the CAS in a set or delete header
 * atomically. That is what makes compareAndSet and deleteIfEquals exact on memcached.
 */
export class MemcachedNode {
  private readonly multiGet: MultiGet

  constructor(
    readonly client: memjs.Client,
    /** "host:port", or "client" for a caller's client (which routes keys itself). */
    readonly address: string,
  ) {
    this.multiGet = new MultiGet(
      client as unknown as MemjsInternals,
      (operation, status) => this.failure(operation, status),
      (error) => asError(error, address),
    )
  }

  async get(key: string): Promise<Item | undefined> {
    const response = await this.send(key, Opcode.get, EMPTY, EMPTY)
    const status = response.header.status
    if (status === Status.notFound) return undefined
    if (status !== Status.ok) throw this.failure('get', status)
    return { value: response.val.toString('utf8'), cas: Buffer.from(response.header.cas) }
  }

  /** The unsent multi-get (see MultiGet) that `key` joined; resolves the hits of that batch. */
  joinGet(key: string): Promise<Map<string, string>> {
    return this.multiGet.join(key)
  }

  /** set or add; with `cas`, only if the item still has that CAS. Resolves the server's status. */
  async store(
    opcode: typeof Opcode.set | typeof Opcode.add,
    key: string,
    value: Buffer,
    expiration: number,
    cas?: Buffer,
  ): Promise<number> {
    const extras = Buffer.alloc(8)
    extras.writeUInt32BE(expiration, 4) // the first four bytes are the (unused) flags
    return (await this.send(key, opcode, extras, value, cas)).header.status
  }

  /** Resolves the server's status: ok, notFound, or exists (the CAS no longer matches). */
  async delete(key: string, cas?: Buffer): Promise<number> {
    return (await this.send(key, Opcode.delete, EMPTY, EMPTY, cas)).header.status
  }

  /** One NOOP round trip (the breaker's probe). */
  async ping(): Promise<void> {
    const status = (await this.send('', Opcode.noop, EMPTY, EMPTY)).header.status
    if (status !== Status.ok) throw this.failure('noop', status)
  }

  close(): void {
    this.client.close()
  }

  failure(operation: string, status: number): Error {
    return new Error(
      `memcached ${this.address} ${operation}: ${STATUS_NAMES[status] ?? `status 0x${status.toString(16)}`}`,
    )
  }

  private send(
    key: string,
    opcode: number,
    extras: Buffer,
    value: Buffer,
    cas?: Buffer,
  ): Promise<memjs.Response> {
    const client = this.client
    client.incrSeq()
    const seq = client.seq
    const request = utils().makeRequestBuffer(opcode, key, extras, value, seq)
    if (cas !== undefined) cas.copy(request, 16) // the header's CAS field: bytes 16-23
    return new Promise((resolve, reject) => {
      client.perform(key, request, seq, (error: Error | null, response: unknown) => {
        // memjs reports some failures (e.g. SASL) as bare strings.
        if (error) reject(asError(error, this.address))
        else resolve(response as memjs.Response)
      })
    })
  }
}

const EMPTY = Buffer.alloc(0)

function asError(error: unknown, address: string): Error {
  if (error instanceof Error) return error
  return new Error(`memcached ${address}: ${String(error)}`)
}
