/**
 * The demo's seed: a small blog, the same on every run (a seeded PRNG), so the numbers a new
 * user sees and the tests' expectations do not drift.
 */
export interface SeedData {
  users: { id: number; email: string; name: string; bio: string }[]
  tags: { id: number; name: string }[]
  posts: { id: number; title: string; body: string; views: number; authorId: number }[]
  postTags: { postId: number; tagId: number }[]
  comments: { id: number; body: string; postId: number; authorId: number }[]
}

export const SEED_SIZES = { users: 40, tags: 12, posts: 120, comments: 300 }

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Niklaus']
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Perlman',
  'Wirth',
]
const TAGS = [
  'caching',
  'postgres',
  'sqlite',
  'redis',
  'memcached',
  'prisma',
  'typeorm',
  'performance',
  'consistency',
  'nodejs',
  'typescript',
  'databases',
]
const TOPICS = [
  'cache invalidation',
  'stampedes',
  'write-behind queues',
  'read replicas',
  'connection pools',
  'tag versions',
  'TTL jitter',
  'hot keys',
  'cold starts',
  'query plans',
]
const VERBS = ['Understanding', 'Taming', 'Measuring', 'Debugging', 'Scaling', 'Rethinking']

/** mulberry32: tiny, fast and good enough to make varied but repeatable data. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export function seedData(): SeedData {
  const next = random(6)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
  const between = (low: number, high: number) => low + Math.floor(next() * (high - low + 1))

  const users = Array.from({ length: SEED_SIZES.users }, (_, i) => {
    const first = FIRST[i % FIRST.length]!
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!
    return {
      id: i + 1,
      email: `${first}.${last}.${i + 1}@example.com`.toLowerCase(),
      name: `${first} ${last}`,
      bio: `Writes about ${pick(TOPICS)}.`,
    }
  })
  const tags = TAGS.map((name, i) => ({ id: i + 1, name }))
  const posts = Array.from({ length: SEED_SIZES.posts }, (_, i) => {
    const topic = pick(TOPICS)
    return {
      id: i + 1,
      title: `${pick(VERBS)} ${topic}`,
      body: `Notes on ${topic}: what we measured, what surprised us, and what we changed.`,
      views: between(0, 500),
      authorId: between(1, SEED_SIZES.users),
    }
  })
  const postTags = posts.flatMap((post) => {
    const chosen = new Set<number>()
    const count = between(1, 3)
    while (chosen.size < count) chosen.add(between(1, TAGS.length))
    return [...chosen].map((tagId) => ({ postId: post.id, tagId }))
  })
  const comments = Array.from({ length: SEED_SIZES.comments }, (_, i) => ({
    id: i + 1,
    body: pick([
      'Great write-up!',
      'We hit the same problem.',
      'What about Redis Cluster?',
      'Numbers please :)',
      'Thanks, this helped.',
    ]),
    postId: between(1, SEED_SIZES.posts),
    authorId: between(1, SEED_SIZES.users),
  }))
  return { users, tags, posts, postTags, comments }
}
