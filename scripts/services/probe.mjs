// Protocol-level pings: a service counts as up only if it answers in its own protocol, not
// merely because something accepts TCP connections on its port.
import net from 'node:net'

/**
 * Opens a TCP connection, optionally writes `request`, and resolves true once `accept(data)`
 * is satisfied by what the server sent, false on refusal, close or timeout.
 */
export function probe({ host = '127.0.0.1', port, request, accept, timeoutMs = 1_500 }) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    let received = Buffer.alloc(0)
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.on('error', () => done(false))
    socket.on('close', () => done(accept(received)))
    socket.on('connect', () => {
      if (request !== undefined) socket.write(request)
    })
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (accept(received)) done(true)
    })
  })
}

/** PING answers +PONG; a password-protected server answers -NOAUTH, which still proves it is Redis. */
export const redisPing = (port, host) =>
  probe({ host, port, request: 'PING\r\n', accept: (b) => /^(\+PONG|-NOAUTH)/.test(b.toString()) })

export const memcachedPing = (port, host) =>
  probe({ host, port, request: 'version\r\n', accept: (b) => b.toString().startsWith('VERSION ') })

/** An SSLRequest packet: PostgreSQL answers a single "S" or "N" before any authentication. */
export const postgresPing = (port, host) => {
  const request = Buffer.alloc(8)
  request.writeInt32BE(8, 0)
  request.writeInt32BE(80877103, 4)
  return probe({ host, port, request, accept: (b) => b.length === 1 && (b[0] === 0x53 || b[0] === 0x4e) })
}

/** MySQL/MariaDB greet first: a handshake packet whose payload starts with protocol version 10. */
export const mysqlPing = (port, host) =>
  probe({ host, port, accept: (b) => b.length >= 5 && b.readUIntLE(0, 3) + 4 <= b.length && b[4] === 10 })

/** Polls `check` until it resolves true or `timeoutMs` passes. */
export async function waitFor(check, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
