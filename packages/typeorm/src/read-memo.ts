import { createHash } from 'node:crypto'
import { buildKey, Memo, type ReadVerdict, type SqlDialect } from '@ormcache/core/adapter'
import type { DataSource } from 'typeorm'
import { queryKey } from './keys.js'
import { type ReadDependencies, readDependencies } from './read-deps/read-deps.js'
import { schemaOf } from './schema/entity-schema.js'
import type { ReadVerdicts } from './sql/read-safety.js'

/** What one SQL text (in one key scope) needs on every read, computed once per text. */
interface TextPlan {
  scope: string
  verdict: ReadVerdict
  /** Digest of the scope and the SQL text: the key names it instead of the text itself. */
  digest: string
}

/** One read's key and dependencies. Shared between reads of the same key: never mutate. */
export interface ReadShape {
  key: string
  dependencies: ReadDependencies
  verdict: ReadVerdict
}

/** SQL texts remembered (an application runs a bounded set; parameters vary, texts do not). */
const TEXTS = 2_000
/** Keys whose dependencies are remembered: a hot working set of rows and lists. */
const KEYS = 4_096

/**
 * The analysis of a cached read, memoized twice (issue #12: a hit must not re-analyse its SQL):
 *
 * - per SQL text: the read-safety verdict and a digest of the text, so the cache key is short
 *   (`typeorm:<label>:<digest>:<parameters>`) instead of carrying the whole statement, which the
 *   core would otherwise copy, hash and compare on every read;
 * - per key: the dependencies (tags, after-load rule, label). They are a pure function of the SQL
 *   text, the parameters, the dialect, the entity schema and the configured views. The first two
 *   are exactly what the key encodes (the digest names the text and scope, `buildKey` encodes the
 *   parameters injectively, so two reads share a key only if they share both); the others are
 *   fixed for an initialized DataSource. So a remembered shape is the one a fresh analysis would
 *   compute. Before `initialize()` the schema may still change and nothing is remembered.
 *
 * The digest is SHA-256 (a collision would have to be found for two SQL texts of one scope); the
 * core still keeps its own identity hash of the whole key inside each entry.
 */
export class ReadMemo {
  private readonly texts = new Memo<TextPlan>(TEXTS, Number.POSITIVE_INFINITY)
  private readonly shapes = new Memo<ReadShape>(KEYS)

  constructor(
    private readonly dataSource: DataSource,
    private readonly dialect: SqlDialect,
    private readonly verdicts: ReadVerdicts,
    private readonly views: ReadonlyMap<string, readonly string[]>,
    /** Pinned lists on member tags (`listTags: 'members'`). */
    private readonly members = false,
  ) {}

  /** Throws what the analysis throws (the caller then runs the query uncached). */
  shape(scope: string, sql: string, parameters: readonly unknown[]): ReadShape {
    const text = this.text(scope, sql)
    const params = buildKey(parameters as unknown[])
    const lookup = `${text.digest}:${params}`
    const known = this.shapes.get(lookup)
    if (known !== undefined) return known
    const dependencies = readDependencies(
      sql,
      parameters,
      this.dialect,
      schemaOf(this.dataSource),
      this.views,
      this.members,
    )
    const shape: ReadShape = {
      key: queryKey(dependencies.label, text.digest, params),
      dependencies,
      verdict: text.verdict,
    }
    if (this.dataSource.isInitialized) {
      // Shared by every later read of this key (and handed to onRead listeners): frozen.
      Object.freeze(dependencies.tags)
      this.shapes.set(lookup, shape)
    }
    return shape
  }

  private text(scope: string, sql: string): TextPlan {
    const known = this.texts.get(sql)
    if (known !== undefined && known.scope === scope) return known
    const plan: TextPlan = {
      scope,
      verdict: this.verdicts.of(sql),
      // UTF-16 code units, so texts differing only in a lone surrogate (lossy in UTF-8) differ here.
      digest: createHash('sha256')
        .update(Buffer.from(buildKey([scope, sql]), 'utf16le'))
        .digest('base64url'),
    }
    this.texts.set(sql, plan)
    return plan
  }
}
