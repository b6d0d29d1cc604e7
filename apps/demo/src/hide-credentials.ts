// Everything before the last "@" of a URL's authority may be a credential, even in a malformed URL
// ("redis:/u:SECRET@h") that URL parsing rejects, so all of it is hidden, not only a well-formed
// password. Used for every message and display line that repeats a user-supplied URL.
export function hideUrlCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/*)[^/?#]*@/i, '$1***@')
}

/** `user:pass@host:port` → `***@host:port` (Memcached server entries carry no scheme). */
export function hideUserInfo(server: string): string {
  const at = server.lastIndexOf('@')
  return at === -1 ? server : `***${server.slice(at)}`
}
