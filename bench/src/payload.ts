/**
 * The value every library caches in the store scenario: the shape of a user row with its posts,
 * as an ORM returns it, restricted to JSON-native types (dates as ISO strings) so that every
 * library round-trips it exactly and no one pays for type fidelity the others skip. About 1.3 KB
 * as JSON.
 */
export interface PayloadPost {
  id: number
  title: string
  body: string
  published: boolean
  views: number
}

export interface Payload {
  id: number
  email: string
  name: string
  bio: string
  version: number
  createdAt: string
  posts: PayloadPost[]
}

export function payloadFor(id: number): Payload {
  return {
    id,
    email: `user${id}@example.com`,
    name: `User ${id}`,
    bio: 'Writes about caches, databases and the invalidation problems between them. '.repeat(3),
    version: 0,
    createdAt: new Date(Date.UTC(2024, 0, 1 + (id % 28))).toISOString(),
    posts: Array.from({ length: 5 }, (_, i) => ({
      id: id * 10 + i,
      title: `Post ${i} by user ${id}`,
      body: 'A paragraph of text that stands for the body of a post. '.repeat(2),
      published: i % 2 === 0,
      views: (id * 37 + i * 11) % 1000,
    })),
  }
}

export const payloadBytes = (id = 1): number => Buffer.byteLength(JSON.stringify(payloadFor(id)))
