import type memjs from 'memjs'

/** The parts of memjs 1.3's Client and Server that a batched request needs. */
export interface MemjsServer {
  onResponse(seq: number, handler: ((response: memjs.Response) => void) & { quiet?: boolean }): void
  onError(seq: number, handler: (error: unknown) => void): void
  write(blob: Buffer): void
}
export interface MemjsInternals {
  seq: number
  incrSeq(): void
  server(key: string): MemjsServer | null | undefined
}

const GETKQ = 0x0d
const NOOP = 0x0a
const HEADER = 24
const NOT_FOUND = 0x01

/** One pending multi-get to one server: every key asked for in this tick, sent as one packet. */
interface Batch {
  keys: Set<string>
  /** Hits only, by wire key; resolved once the server's NOOP reply arrives. */
  found: Promise<Map<string, string>>
  resolve(found: Map<string, string>): void
  reject(error: unknown): void
}

/**
 * Binary multi-get shared by every caller of one tick. A read joins the batch of its key's server
 * that has not been sent yet; the batch leaves on the next tick as ONE socket write of
 * GETKQ … GETKQ NOOP (a quiet get sends nothing back on a miss; the NOOP's reply, which memcached
 * sends after every earlier reply on the connection, closes the batch). Joining only an unsent
 * batch keeps the read's meaning: it is sent after the read started, so it sees every write that
 * finished before. 64 concurrent hits thus cost one write per server instead of one per hit and
 * server; the epoch and a table's bulk tag, which every hit reads, travel once.
 *
 * Replies are matched by the key they carry (GETKQ echoes it), not by position, and through
 * memjs's own per-opaque handler (marked `quiet`, as memjs's STATS does), so memjs's request
 * timeout, connection errors and SASL handshake apply to the batch unchanged.
 */
export class MultiGet {
  private readonly pending = new Map<MemjsServer, Batch>()

  constructor(
    private readonly client: MemjsInternals,
    private readonly failure: (operation: string, status: number) => Error,
    private readonly asError: (error: unknown) => Error,
  ) {}

  /**
   * The batch of `key`'s server that `key` joined. Its value is `(await batch).get(key)`; a
   * server that fails rejects only its own batch.
   */
  join(key: string): Promise<Map<string, string>> {
    const server = this.client.server(key)
    if (server == null) throw new Error('memcached: no server available')
    let batch = this.pending.get(server)
    if (batch === undefined) {
      batch = this.open(server)
      this.pending.set(server, batch)
    }
    batch.keys.add(key)
    return batch.found
  }

  private open(server: MemjsServer): Batch {
    let resolve!: (found: Map<string, string>) => void
    let reject!: (error: unknown) => void
    const found = new Promise<Map<string, string>>((res, rej) => {
      resolve = res
      reject = rej
    })
    const batch: Batch = { keys: new Set(), found, resolve, reject }
    process.nextTick(() => {
      this.pending.delete(server)
      this.send(server, batch)
    })
    return batch
  }

  private send(server: MemjsServer, batch: Batch): void {
    const client = this.client
    client.incrSeq()
    const seq = client.seq
    const found = new Map<string, string>()
    let failed: number | undefined
    const handle = (response: memjs.Response) => {
      const header = response.header
      // memjs drops this handler after any reply with an empty body, so that ends the batch too.
      if (header.totalBodyLength === 0) {
        if (header.opcode !== NOOP && failed === undefined) failed = header.status
        if (failed === undefined) batch.resolve(found)
        else batch.reject(this.failure('getMany', failed))
        return
      }
      if (header.status === 0) found.set(response.key.toString('latin1'), response.val.toString('utf8'))
      else if (header.status !== NOT_FOUND) failed = header.status
    }
    handle.quiet = true
    server.onResponse(seq, handle)
    server.onError(seq, (error: unknown) => batch.reject(this.asError(error)))
    server.write(encode(batch.keys, seq))
  }
}

/**
 * GETKQ per key then NOOP, all with opaque `seq`, in one buffer. memjs's makeRequestBuffer would
 * allocate and zero-fill three buffers per request plus the concatenation; a batch of a hundred
 * keys is one allocation here. Keys are wire keys: printable ASCII (memcachedKey), so one byte
 * per character.
 */
export function encode(keys: Iterable<string>, seq: number): Buffer {
  let size = HEADER
  for (const key of keys) size += HEADER + key.length
  const buf = Buffer.alloc(size)
  let at = 0
  for (const key of keys) {
    header(buf, at, GETKQ, key.length, seq)
    buf.write(key, at + HEADER, 'latin1')
    at += HEADER + key.length
  }
  header(buf, at, NOOP, 0, seq)
  return buf
}

/** A request header (magic 0x80) without extras, value or CAS: bytes 4-7 and 16-23 stay zero. */
function header(buf: Buffer, at: number, opcode: number, keyLength: number, seq: number): void {
  buf[at] = 0x80
  buf[at + 1] = opcode
  buf.writeUInt16BE(keyLength, at + 2)
  buf.writeUInt32BE(keyLength, at + 8)
  buf.writeUInt32BE(seq >>> 0, at + 12)
}
