import { memcachedStore } from '../src/exports/memcached.js'
import { describePlainHit } from './support/plain-hit-suite.js'
import { memcachedServers, requireMemcached } from './support/services.js'

describePlainHit('Memcached', 'mph', async () => {
  await requireMemcached()
  return {
    reader: memcachedStore({ servers: memcachedServers }),
    writer: memcachedStore({ servers: memcachedServers }),
  }
})
