/**
 * No error, event or log line may carry a credential. Two ways one gets in: a connection string
 * echoed in a message (`redis://user:secret@host`, a Memcached `user:pass@host` entry), and a
 * client error whose cause keeps the failed command with its arguments (ioredis puts
 * `{ name: 'auth', args: [user, password] }` on a WRONGPASS reply). Both are scrubbed here.
 */

/**
 * Replaces the user-info part of every `…@host` in `text` with `***`. Works on malformed input
 * too (`redis:/u:secret@h`, `u:p@h:1`), since a typo in a URL is exactly when it gets echoed:
 * everything from the start of a token (after a scheme's slashes, a quote, a comma or a space) to
 * the last `@` before the host is treated as user info.
 */
export function redactCredentials(text: string): string {
  if (!text.includes('@')) return text
  return (
    text
      // A URL: everything between the scheme and the last `@` of the token (commas included, as
      // in a cluster URL's host list) is user info.
      .replace(/([a-z][a-z0-9+.-]*:\/+)[^\s"'`]*@/gi, '$1***@')
      // A bare `user:pass@host` entry (Memcached servers, malformed URLs), one per comma. At least
      // one character of user info: a lone `@` starts a scoped package name (`@ormcache/core`).
      .replace(/([a-z][a-z0-9+.-]*:\/+)?[^\s"'`,@]+@/gi, '$1***@')
  )
}

/** Commands whose arguments are credentials (AUTH, HELLO … AUTH, MIGRATE … AUTH, CONFIG SET requirepass, ACL SETUSER). */
const SECRET_COMMANDS = new Set(['auth', 'hello', 'migrate', 'config', 'acl'])
const MAX_DEPTH = 8

/**
 * Removes credentials from an error a client library handed us, in place, before it becomes the
 * `cause` of an ormcache error: secret command arguments are replaced and messages redacted.
 * Walks causes, ioredis's `previousErrors`/`lastNodeError` and AggregateError's `errors`.
 */
export function scrubError(error: unknown, depth = 0): void {
  if (depth > MAX_DEPTH || typeof error !== 'object' || error === null) return
  const record = error as Record<string, unknown>
  const command = record.command
  if (typeof command === 'object' && command !== null) {
    const cmd = command as { name?: unknown; args?: unknown }
    if (
      typeof cmd.name === 'string' &&
      SECRET_COMMANDS.has(cmd.name.toLowerCase()) &&
      Array.isArray(cmd.args)
    ) {
      tryAssign(cmd, 'args', ['[redacted]'])
    }
  }
  if (error instanceof Error) {
    const message = redactCredentials(error.message)
    if (message !== error.message) {
      tryAssign(error, 'message', message)
      if (typeof error.stack === 'string') tryAssign(error, 'stack', redactCredentials(error.stack))
    }
  }
  for (const field of ['cause', 'lastNodeError', 'originalError']) scrubError(record[field], depth + 1)
  for (const field of ['previousErrors', 'errors']) {
    const list = record[field]
    if (Array.isArray(list)) for (const item of list.slice(0, 16)) scrubError(item, depth + 1)
  }
}

function tryAssign(target: object, field: string, value: unknown): void {
  try {
    ;(target as Record<string, unknown>)[field] = value
  } catch {
    // A frozen error keeps its fields; nothing we can do without replacing the caller's object.
  }
}
