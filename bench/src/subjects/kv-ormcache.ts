import type { KvSubject, KvSubjectFactory } from './kv.js'
import { ORMCACHE_LABELS, type OrmcacheVariant, ormcacheCache, variantNeeds } from './ormcache-caches.js'

/** ormcache through its public API: `wrap` with tags, `invalidateTags` after a write. */
export function ormcacheKv(variant: OrmcacheVariant): KvSubjectFactory {
  return {
    id: `ormcache-${variant}`,
    label: ORMCACHE_LABELS[variant],
    library: 'ormcache',
    needs: variantNeeds(variant),
    async create(prefix) {
      const cache = ormcacheCache(variant, prefix)
      const subject: KvSubject = {
        id: this.id,
        label: this.label,
        library: this.library,
        read: (key, tags, load) => cache.wrap(key, load, { tags }),
        invalidate: (_key, tags) => cache.invalidateTags(tags),
        close: () => cache.close(),
      }
      return subject
    },
  }
}
