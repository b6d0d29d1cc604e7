import { setTimeout as sleep } from 'node:timers/promises'
import type { Cache, ReadSource } from '@ormcache/core'
import type { Blog, PostSummaryDto, ReadMode } from '../blog/types.js'

export interface TrendingOptions {
  /** The artificial cost of the query: a JS delay in the loader (the same on SQLite and PostgreSQL). */
  delayMs: number
  ttlMs: number
  /** How long after `ttlMs` an expired result may still be served while one request refreshes it. */
  staleMs: number
}

export interface TrendingResult {
  posts: PostSummaryDto[]
  /** hit, stale (served while a refresh runs), miss, shared, or bypass (cache off). */
  source: ReadSource
}

/**
 * "Trending": a slow query served with stale-while-revalidate. After the TTL, requests keep
 * getting the previous result instantly while a single background load refreshes it; only a
 * cold cache (or one older than ttl + stale) makes a request wait for the slow query.
 *
 * The entry has no table tags on purpose: trending is allowed to lag (by at most ttl + stale),
 * and the core never serves an invalidated entry stale, so tagging it with `posts` would turn
 * every view flush into a slow request.
 */
export function trending(cache: Cache, blog: Blog, options: TrendingOptions) {
  const load = async () => {
    await sleep(options.delayMs)
    return blog.mostViewed(5)
  }
  return async (read: ReadMode): Promise<TrendingResult> => {
    if (!read.cache) return { posts: await load(), source: 'bypass' }
    const { value, info } = await cache.wrapWithInfo(`demo:trending:${blog.orm}`, load, {
      ttl: options.ttlMs,
      staleWhileRevalidate: options.staleMs,
    })
    return { posts: value, source: info.source }
  }
}
