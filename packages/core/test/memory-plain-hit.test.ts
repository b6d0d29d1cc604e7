import { memoryStore } from '../src/exports/index.js'
import { describePlainHit } from './support/plain-hit-suite.js'

// Two caches on one in-process store: what two caches of one process sharing a store see.
describePlainHit('the memory store', 'memph', async () => {
  const store = memoryStore()
  return { reader: store, writer: store }
})
