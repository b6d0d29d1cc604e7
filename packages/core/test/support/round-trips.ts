import type { Cluster, Redis } from 'ioredis'
import type memjs from 'memjs'

/**
 * Counts what a client sends: every command, and the sequential round trips, i.e. how many times
 * the client went from nothing in flight to something in flight. Commands sent together (a
 * pipeline, Promise.all, per-slot batches) are one round trip; an await between two is two.
 * Counts, never times: deterministic for one caller on a quiet key.
 */
export class RoundTrips {
  commands: string[] = []
  trips = 0
  private inFlight = 0

  reset(): void {
    this.commands = []
    this.trips = 0
  }

  /** Returns the function to call, synchronously, when the reply arrives. */
  track(name: string): () => void {
    this.commands.push(name)
    if (this.inFlight === 0) this.trips += 1
    this.inFlight += 1
    let open = true
    return () => {
      if (open) this.inFlight -= 1
      open = false
    }
  }

  /** Counts `fn`'s traffic after everything it started has settled. */
  async during(fn: () => Promise<unknown>): Promise<{ trips: number; commands: string[] }> {
    await this.settled()
    this.reset()
    await fn()
    await this.settled()
    return { trips: this.trips, commands: [...this.commands] }
  }

  private async settled(): Promise<void> {
    for (let i = 0; i < 100 && this.inFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

interface Sent {
  name: string
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Every command of an ioredis Redis or Cluster (pipelined or not) goes through sendCommand. The
 * reply is counted in before the caller's continuation can send the next command.
 */
export function countRedis(client: Redis | Cluster, counter: RoundTrips): void {
  const target = client as unknown as { sendCommand: (command: Sent, ...rest: unknown[]) => unknown }
  const send = target.sendCommand.bind(client)
  target.sendCommand = (command, ...rest) => {
    const done = counter.track(command.name)
    const { resolve, reject } = command
    command.resolve = (value) => {
      done()
      resolve(value)
    }
    command.reject = (error) => {
      done()
      reject(error)
    }
    return send(command, ...rest)
  }
}

/**
 * Every request of ours reaches a memjs Server's `write` (single requests and the GETKQ … NOOP
 * batches of stores/memcached-node.ts), and every reply its `respond`. A write is answered when
 * a reply with its opaque arrives that is not a quiet GETKQ hit (those precede the batch's NOOP).
 */
export function countMemjs(client: memjs.Client, counter: RoundTrips): void {
  const GETKQ = 0x0d
  type Reply = { header: { opaque: number; opcode: number } }
  type Server = { write(blob: Buffer): unknown; respond(response: Reply): unknown }
  for (const server of (client as unknown as { servers: Server[] }).servers) {
    const open = new Map<number, () => void>()
    const write = server.write.bind(server)
    const respond = server.respond.bind(server)
    server.write = (blob) => {
      open.set(blob.readUInt32BE(12), counter.track(`op${blob[1]}`))
      return write(blob)
    }
    server.respond = (response) => {
      const done = open.get(response.header.opaque)
      if (done !== undefined && response.header.opcode !== GETKQ) {
        open.delete(response.header.opaque)
        done()
      }
      return respond(response)
    }
  }
}
