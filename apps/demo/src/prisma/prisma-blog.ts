import { commentDto, postSummary, userDto } from '../blog/dto.js'
import { isRecordNotFound, isUniqueViolation } from '../blog/errors.js'
import type {
  Blog,
  CommentDto,
  FeedQuery,
  HomeDto,
  NewComment,
  NewPost,
  NewUser,
  PostDto,
  PostSummaryDto,
  ReadMode,
  TagDto,
  UserDto,
  UserPatch,
} from '../blog/types.js'
import { ConflictError, InvalidFieldError } from '../errors.js'
import type { DemoPrisma } from './client.js'

const AUTHOR = { select: { id: true, name: true } } as const
const TAG_NAMES = { select: { name: true }, orderBy: { name: 'asc' } } as const
const SUMMARY = { author: AUTHOR, tags: TAG_NAMES } as const

/**
 * The blog through Prisma. Reads are cached by the extension by default; `cache: false` is the
 * "cache off" switch. Writes are plain Prisma calls: the extension invalidates after the commit
 * (table, row and join-table tags shared with TypeORM) and stores single-row results
 * (write-through).
 */
export class PrismaBlog implements Blog {
  readonly orm = 'prisma'

  constructor(private readonly prisma: DemoPrisma) {}

  async users(read: ReadMode, take: number): Promise<UserDto[]> {
    const users = await this.prisma.user.findMany({ orderBy: { id: 'asc' }, take, cache: read.cache })
    return users.map(userDto)
  }

  async user(read: ReadMode, id: number): Promise<UserDto | undefined> {
    const user = await this.prisma.user.findUnique({ where: { id }, cache: read.cache })
    return user === null ? undefined : userDto(user)
  }

  async createUser(input: NewUser): Promise<UserDto> {
    try {
      return userDto(await this.prisma.user.create({ data: input }))
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`email ${input.email} is already taken`)
      throw error
    }
  }

  async updateUser(id: number, patch: UserPatch): Promise<UserDto | undefined> {
    try {
      return userDto(await this.prisma.user.update({ where: { id }, data: patch }))
    } catch (error) {
      if (isRecordNotFound(error)) return undefined
      if (isUniqueViolation(error)) throw new ConflictError(`email ${patch.email} is already taken`)
      throw error
    }
  }

  async post(read: ReadMode, id: number): Promise<PostDto | undefined> {
    const post = await this.prisma.post.findUnique({
      where: { id },
      include: { ...SUMMARY, comments: { include: { author: AUTHOR }, orderBy: { id: 'asc' } } },
      cache: read.cache,
    })
    if (post === null) return undefined
    return {
      ...postSummary(post),
      body: post.body,
      published: post.published,
      comments: post.comments.map(commentDto),
    }
  }

  async createPost(input: NewPost): Promise<PostDto> {
    await this.requireAuthor(input.authorId)
    const created = await this.prisma.post.create({
      data: {
        title: input.title,
        body: input.body,
        published: input.published ?? true,
        authorId: input.authorId,
        tags: { connectOrCreate: input.tags.map((name) => ({ where: { name }, create: { name } })) },
      },
      select: { id: true },
    })
    return (await this.post({ cache: true }, created.id))!
  }

  async deletePost(id: number): Promise<boolean> {
    try {
      await this.prisma.post.delete({ where: { id }, select: { id: true } })
      return true
    } catch (error) {
      if (isRecordNotFound(error)) return false
      throw error
    }
  }

  async addComment(postId: number, input: NewComment): Promise<CommentDto | undefined> {
    const post = await this.prisma.post.findUnique({ where: { id: postId }, select: { id: true } })
    if (post === null) return undefined
    await this.requireAuthor(input.authorId)
    const comment = await this.prisma.comment.create({
      data: { body: input.body, postId, authorId: input.authorId },
      include: { author: AUTHOR },
    })
    return commentDto(comment)
  }

  async feed(read: ReadMode, query: FeedQuery): Promise<PostSummaryDto[]> {
    const posts = await this.prisma.post.findMany({
      where: { published: true, ...(query.tag === undefined ? {} : { tags: { some: { name: query.tag } } }) },
      orderBy: { id: 'desc' },
      take: query.take,
      include: SUMMARY,
      cache: read.cache,
    })
    return posts.map(postSummary)
  }

  async tags(read: ReadMode): Promise<TagDto[]> {
    const tags = await this.prisma.tag.findMany({
      orderBy: { name: 'asc' },
      include: { _count: { select: { posts: true } } },
      cache: read.cache,
    })
    return tags.map((tag) => ({ name: tag.name, posts: tag._count.posts }))
  }

  async home(read: ReadMode): Promise<HomeDto> {
    const [latest, topTags, users, posts, comments] = await Promise.all([
      this.feed(read, { take: 10 }),
      this.prisma.tag.findMany({
        orderBy: [{ posts: { _count: 'desc' } }, { name: 'asc' }],
        take: 8,
        include: { _count: { select: { posts: true } } },
        cache: read.cache,
      }),
      this.prisma.user.count({ cache: read.cache }),
      this.prisma.post.count({ cache: read.cache }),
      this.prisma.comment.count({ cache: read.cache }),
    ])
    return {
      latest,
      topTags: topTags.map((tag) => ({ name: tag.name, posts: tag._count.posts })),
      totals: { users, posts, comments },
    }
  }

  async mostViewed(take: number): Promise<PostSummaryDto[]> {
    const posts = await this.prisma.post.findMany({
      where: { published: true },
      orderBy: [{ views: 'desc' }, { id: 'asc' }],
      take,
      include: SUMMARY,
      cache: false,
    })
    return posts.map(postSummary)
  }

  async storedViews(postId: number): Promise<number | undefined> {
    const post = await this.prisma.post.findUnique({
      where: { id: postId },
      select: { views: true },
      cache: false,
    })
    return post?.views
  }

  async saveViews(batch: readonly { postId: number; views: number }[]): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      // A post deleted since its view was counted is skipped, not a failed batch.
      const ids = batch.map((item) => item.postId)
      const existing = new Set(
        (await tx.post.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((p) => p.id),
      )
      for (const { postId, views } of batch) {
        if (existing.has(postId))
          await tx.post.update({ where: { id: postId }, data: { views }, select: { id: true } })
      }
    })
  }

  private async requireAuthor(authorId: number): Promise<void> {
    const author = await this.prisma.user.findUnique({ where: { id: authorId }, select: { id: true } })
    if (author === null)
      throw new InvalidFieldError('body/authorId', `refers to user ${authorId}, which does not exist`)
  }
}
