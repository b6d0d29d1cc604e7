import type { QueryCounter } from '../db/query-counter.js'

export interface VersionedRow {
  id: number
  version: number
}

export interface UserWithPosts extends VersionedRow {
  posts: VersionedRow[]
}

/**
 * One ORM with one caching setup, seen from the application. Every ORM scenario (Prisma and
 * TypeORM throughput, stampede, staleness, Zipf) drives libraries through this interface, so the
 * same calls with the same arguments reach each of them.
 */
export interface OrmSubject {
  readonly id: string
  readonly label: string
  /** uncached, ormcache, prisma-extension-redis or typeorm-builtin (chart colour). */
  readonly library: string
  readonly orm: 'prisma' | 'typeorm'
  /** Primary-key lookup: Prisma findUnique, TypeORM findOneBy. */
  findUser(id: number): Promise<VersionedRow | null>
  /** A list with a relation: the team's users with their posts (findMany + include / find + relations). */
  findTeam(teamId: number): Promise<UserWithPosts[]>
  /** version = version + 1; resolves with the new version once the library's invalidation is done. */
  updateUser(id: number): Promise<number>
  updatePost(id: number): Promise<number>
  /** Statements this subject's connection pool sent to Postgres. */
  readonly queries: QueryCounter
  close(): Promise<void>
}

export type OrmKind = 'uncached' | 'ormcache-memory' | 'ormcache-redis' | 'competitor'

export interface OrmSubjectFactory {
  id: string
  label: string
  library: string
  orm: 'prisma' | 'typeorm'
  kind: OrmKind
  needs: readonly ('redis' | 'postgres')[]
  /** `prefix` is unique per run and subject; `databaseUrl` points at the seeded bench database. */
  create(prefix: string, databaseUrl: string): Promise<OrmSubject>
}

/** Connections per subject, the same for every library. */
export const POOL_SIZE = 10
