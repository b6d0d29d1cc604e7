import { setTimeout as sleep } from 'node:timers/promises'
import { rowTag } from '@ormcache/core/adapter'
import type pg from 'pg'
import { postsOf, USERS_PER_TEAM } from '../db/schema.js'
import type { KvSubject } from '../subjects/kv.js'
import { type ItemRow, ItemTable } from '../subjects/kv-loader.js'
import type { OrmSubject, VersionedRow } from '../subjects/orm.js'
import { teamRows, teamVersions } from './rows.js'
import type { StalenessChecker } from './staleness-checker.js'

/** Rows the core-level workload reads and writes. */
export const ITEMS = 20
/** Teams the ORM workload reads and writes (their users and posts). */
export const HOT_TEAMS = 3
export const hotUsers = HOT_TEAMS * USERS_PER_TEAM

/** What the workload needs from one library, whatever its level. */
export interface Target {
  read(node: number, random: () => number, checker: StalenessChecker): Promise<void>
  write(node: number, random: () => number, checker: StalenessChecker): Promise<void>
  /** After writes stopped: reads every key through every node, compares with Postgres. */
  stillStale(): Promise<{ checked: number; stale: number }>
  close(): Promise<void>
}

/** Core level: cache-aside over bench_item rows; a write bumps the row, then invalidates. */
export async function kvTarget(nodes: KvSubject[], databaseUrl: string, admin: pg.Client): Promise<Target> {
  const tables = nodes.map(() => new ItemTable(databaseUrl))
  const tagsOf = (id: number) => [rowTag('bench_item', { id })]
  const read = (node: number, id: number): Promise<ItemRow> =>
    nodes[node]!.read(`item:${id}`, tagsOf(id), async () => {
      const row = await tables[node]!.read(id)
      // A pause between the database read and the cache fill (network, GC, a busy event loop):
      // the window in which a concurrent write can finish.
      await sleep(Math.floor(Math.random() * 3))
      return row
    })
  return {
    async read(node, random, checker) {
      const id = 1 + Math.floor(random() * ITEMS)
      const rows = [`item:${id}`]
      const required = checker.required(rows)
      const value = await read(node, id)
      checker.check(rows, required, [value.version])
    },
    async write(node, random, checker) {
      const id = 1 + Math.floor(random() * ITEMS)
      const version = await tables[node]!.bump(id)
      await nodes[node]!.invalidate(`item:${id}`, tagsOf(id))
      checker.finishedWrite(`item:${id}`, version)
    },
    async stillStale() {
      const { rows } = await admin.query<ItemRow>('SELECT id, version FROM bench_item WHERE id <= $1', [
        ITEMS,
      ])
      const truth = new Map(rows.map((r) => [r.id, r.version]))
      let stale = 0
      for (let node = 0; node < nodes.length; node++) {
        for (let id = 1; id <= ITEMS; id++) if ((await read(node, id)).version !== truth.get(id)) stale++
      }
      return { checked: nodes.length * ITEMS, stale }
    },
    async close() {
      for (const node of nodes) await node.close()
      for (const table of tables) await table.close()
    },
  }
}

/** Through the ORM: primary-key lookups and team lists with posts; writes bump a user or a post. */
export async function ormTarget(nodes: OrmSubject[], admin: pg.Client): Promise<Target> {
  const truth = async (): Promise<Map<string, number>> => {
    const users = await admin.query<VersionedRow>('SELECT id, version FROM bench_user WHERE id <= $1', [
      hotUsers,
    ])
    const posts = await admin.query<VersionedRow>(
      'SELECT id, version FROM bench_post WHERE author_id <= $1',
      [hotUsers],
    )
    return new Map<string, number>([
      ...users.rows.map((r): [string, number] => [`user:${r.id}`, r.version]),
      ...posts.rows.map((r): [string, number] => [`post:${r.id}`, r.version]),
    ])
  }
  return {
    async read(node, random, checker) {
      const subject = nodes[node]!
      if (random() < 0.5) {
        const id = 1 + Math.floor(random() * hotUsers)
        const rows = [`user:${id}`]
        const required = checker.required(rows)
        const user = await subject.findUser(id)
        if (user === null) throw new Error(`${subject.label}: user ${id} not found`)
        checker.check(rows, required, [user.version])
      } else {
        const teamId = 1 + Math.floor(random() * HOT_TEAMS)
        const rows = teamRows(teamId)
        const required = checker.required(rows)
        checker.check(rows, required, teamVersions(teamId, await subject.findTeam(teamId)))
      }
    },
    async write(node, random, checker) {
      const subject = nodes[node]!
      const user = 1 + Math.floor(random() * hotUsers)
      if (random() < 0.5) checker.finishedWrite(`user:${user}`, await subject.updateUser(user))
      else {
        const post = postsOf(user)[Math.floor(random() * postsOf(user).length)]!
        checker.finishedWrite(`post:${post}`, await subject.updatePost(post))
      }
    },
    async stillStale() {
      const expected = await truth()
      let checked = 0
      let stale = 0
      for (const subject of nodes) {
        for (let id = 1; id <= hotUsers; id++) {
          checked++
          if ((await subject.findUser(id))?.version !== expected.get(`user:${id}`)) stale++
        }
        for (let teamId = 1; teamId <= HOT_TEAMS; teamId++) {
          checked++
          const versions = teamVersions(teamId, await subject.findTeam(teamId))
          if (teamRows(teamId).some((row, i) => versions[i] !== expected.get(row))) stale++
        }
      }
      return { checked, stale }
    },
    async close() {
      for (const node of nodes) await node.close()
    },
  }
}
