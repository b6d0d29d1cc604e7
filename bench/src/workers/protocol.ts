/** Messages between the stampede scenario and its worker processes (over the fork IPC channel). */
export type ToWorker =
  | {
      type: 'prepare'
      /** A KV subject id (core-level, loader is an expensive SQL query) or an ORM subject id. */
      subject: string
      level: 'kv' | 'orm'
      prefix: string
      databaseUrl: string
      /** The cold item id (kv) or team id (orm) every reader asks for. */
      target: number
      readers: number
      /** kv only: ms the loader's query spends in Postgres. */
      queryMs: number
    }
  | { type: 'go' }
  | { type: 'release' }
  | { type: 'exit' }

export type FromWorker =
  | { type: 'ready' }
  | {
      type: 'done'
      /** SELECT statements this process sent for the cold key. */
      queries: number
      errors: number
      firstError?: string
      latencies: number[]
    }
  | { type: 'released' }
  | { type: 'failed'; error: string }
