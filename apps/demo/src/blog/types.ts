/** The two ORMs the demo serves the same resources through: /prisma/… and /typeorm/…. */
export const ORMS = ['prisma', 'typeorm'] as const
export type OrmName = (typeof ORMS)[number]

/**
 * How one request reads. `cache: false` is the "cache off" side of the homepage scenario:
 * Prisma reads pass `cache: false`, TypeORM reads leave out `cache: true` / `.cache(true)`.
 */
export interface ReadMode {
  cache: boolean
}

export interface Author {
  id: number
  name: string
}

export interface UserDto {
  id: number
  email: string
  name: string
  bio: string
  createdAt: string
}

export interface PostSummaryDto {
  id: number
  title: string
  views: number
  createdAt: string
  author: Author
  tags: string[]
}

export interface CommentDto {
  id: number
  body: string
  createdAt: string
  author: Author
}

export interface PostDto extends PostSummaryDto {
  body: string
  published: boolean
  comments: CommentDto[]
}

export interface TagDto {
  name: string
  posts: number
}

export interface HomeDto {
  latest: PostSummaryDto[]
  topTags: TagDto[]
  totals: { users: number; posts: number; comments: number }
}

export interface NewUser {
  email: string
  name: string
  bio?: string
}

export interface UserPatch {
  name?: string
  bio?: string
  email?: string
}

export interface NewPost {
  authorId: number
  title: string
  body: string
  tags: string[]
  published?: boolean
}

export interface NewComment {
  authorId: number
  body: string
}

export interface FeedQuery {
  tag?: string
  take: number
}

/**
 * The blog, as both ORMs implement it. Reads take a ReadMode; writes always go to the database
 * and leave invalidation to the adapters (a write through one ORM invalidates the other's reads).
 * `undefined` means "no such row".
 */
export interface Blog {
  readonly orm: OrmName
  users(read: ReadMode, take: number): Promise<UserDto[]>
  /** The profile: a primary-key lookup (cache-aside; write-through keeps it warm). */
  user(read: ReadMode, id: number): Promise<UserDto | undefined>
  createUser(input: NewUser): Promise<UserDto>
  /** A single-row update that returns the row: the adapters store it (write-through). */
  updateUser(id: number, patch: UserPatch): Promise<UserDto | undefined>
  post(read: ReadMode, id: number): Promise<PostDto | undefined>
  createPost(input: NewPost): Promise<PostDto>
  deletePost(id: number): Promise<boolean>
  addComment(postId: number, input: NewComment): Promise<CommentDto | undefined>
  /** Latest published posts with authors and tags, optionally of one tag. */
  feed(read: ReadMode, query: FeedQuery): Promise<PostSummaryDto[]>
  tags(read: ReadMode): Promise<TagDto[]>
  home(read: ReadMode): Promise<HomeDto>
  /** The posts with the most views, uncached: the trending strategy decides how it is cached. */
  mostViewed(take: number): Promise<PostSummaryDto[]>
  /** Current stored view counts (uncached), for the view counter's first increment. */
  storedViews(postId: number): Promise<number | undefined>
  /** The write-behind flush: set each post's views in one transaction. */
  saveViews(batch: readonly { postId: number; views: number }[]): Promise<void>
}
