import { Histogram } from '@ormcache/core'

export interface LoadResult {
  ok: number
  failed: number
  seconds: number
  latency: Histogram
}

/**
 * Sends `requests` GETs to `url` from `concurrency` workers (keep-alive connections), and
 * measures each request's latency as a client sees it. Bounded in count by design.
 */
export async function sendLoad(
  url: string,
  options: {
    requests: number
    concurrency: number
    headers?: Record<string, string>
    onResponse?: (done: number) => void
  },
): Promise<LoadResult> {
  const latency = new Histogram()
  let started = 0
  let done = 0
  let ok = 0
  let failed = 0
  const worker = async () => {
    while (started < options.requests) {
      started += 1
      const t0 = performance.now()
      try {
        const response = await fetch(url, { headers: options.headers ?? {} })
        await response.arrayBuffer()
        if (response.ok) ok += 1
        else failed += 1
      } catch {
        failed += 1
      }
      latency.record(performance.now() - t0)
      done += 1
      options.onResponse?.(done)
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests) }, worker))
  return { ok, failed, seconds: (performance.now() - t0) / 1000, latency }
}
