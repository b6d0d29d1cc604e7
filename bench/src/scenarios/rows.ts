import { postsOf, USERS_PER_TEAM } from '../db/schema.js'
import type { UserWithPosts } from '../subjects/orm.js'

/** The rows a team read returns ("user:u" and "post:p"), in a fixed order. */
export function teamRows(teamId: number): string[] {
  const rows: string[] = []
  for (let u = (teamId - 1) * USERS_PER_TEAM + 1; u <= teamId * USERS_PER_TEAM; u++) {
    rows.push(`user:${u}`, ...postsOf(u).map((p) => `post:${p}`))
  }
  return rows
}

/** Versions a team read returned, in the order of teamRows(teamId). */
export function teamVersions(teamId: number, users: readonly UserWithPosts[]): number[] {
  const seen = new Map<string, number>()
  for (const user of users) {
    seen.set(`user:${user.id}`, user.version)
    for (const post of user.posts) seen.set(`post:${post.id}`, post.version)
  }
  return teamRows(teamId).map((row) => {
    const version = seen.get(row)
    if (version === undefined) throw new Error(`team ${teamId} read lacks ${row}`)
    return version
  })
}
