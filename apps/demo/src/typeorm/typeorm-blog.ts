import type { DataSource, EntityManager, Repository, SelectQueryBuilder } from 'typeorm'
import { commentDto, postSummary, userDto } from '../blog/dto.js'
import { isUniqueViolation } from '../blog/errors.js'
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
import { CommentEntity, PostEntity, TagEntity, UserEntity } from './entities/index.js'

/**
 * The blog through TypeORM, returning exactly what the Prisma side returns. Cached reads say so
 * (`cache: true` in find options, `.cache(true)` on a QueryBuilder); "cache off" leaves it out.
 * Writes are ordinary saves and removes: the ormcache subscriber invalidates after the commit,
 * with the same tag names as Prisma's extension.
 */
export class TypeormBlog implements Blog {
  readonly orm = 'typeorm'
  private readonly users_: Repository<UserEntity>
  private readonly posts: Repository<PostEntity>
  private readonly comments: Repository<CommentEntity>
  private readonly tagRepo: Repository<TagEntity>

  constructor(private readonly dataSource: DataSource) {
    this.users_ = dataSource.getRepository(UserEntity)
    this.posts = dataSource.getRepository(PostEntity)
    this.comments = dataSource.getRepository(CommentEntity)
    this.tagRepo = dataSource.getRepository(TagEntity)
  }

  async users(read: ReadMode, take: number): Promise<UserDto[]> {
    const users = await this.users_.find({ order: { id: 'ASC' }, take, cache: read.cache })
    return users.map(userDto)
  }

  async user(read: ReadMode, id: number): Promise<UserDto | undefined> {
    const user = await this.users_.findOne({ where: { id }, cache: read.cache })
    return user === null ? undefined : userDto(user)
  }

  async createUser(input: NewUser): Promise<UserDto> {
    try {
      const saved = await this.users_.save(this.users_.create({ ...input, bio: input.bio ?? '' }))
      return userDto(saved)
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`email ${input.email} is already taken`)
      throw error
    }
  }

  async updateUser(id: number, patch: UserPatch): Promise<UserDto | undefined> {
    const user = await this.users_.findOne({ where: { id } })
    if (user === null) return undefined
    try {
      return userDto(await this.users_.save(this.users_.merge(user, patch)))
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`email ${patch.email} is already taken`)
      throw error
    }
  }

  async post(read: ReadMode, id: number): Promise<PostDto | undefined> {
    const post = await this.posts
      .createQueryBuilder('post')
      .innerJoinAndSelect('post.author', 'author')
      .leftJoinAndSelect('post.tags', 'tag')
      .leftJoinAndSelect('post.comments', 'comment')
      .leftJoinAndSelect('comment.author', 'commenter')
      .where('post.id = :id', { id })
      .orderBy('comment.id', 'ASC')
      .cache(read.cache)
      .getOne()
    if (post === null) return undefined
    const comments = [...(post.comments ?? [])].sort((a, b) => a.id - b.id)
    return {
      ...postSummary(post),
      body: post.body,
      published: post.published,
      comments: comments.map(commentDto),
    }
  }

  async createPost(input: NewPost): Promise<PostDto> {
    await this.requireAuthor(input.authorId)
    const id = await this.dataSource.transaction(async (manager) => {
      const tags = await Promise.all(input.tags.map((name) => findOrCreateTag(manager, name)))
      const post = manager.create(PostEntity, {
        title: input.title,
        body: input.body,
        published: input.published ?? true,
        authorId: input.authorId,
        tags,
      })
      return (await manager.save(post)).id
    })
    return (await this.post({ cache: true }, id))!
  }

  async deletePost(id: number): Promise<boolean> {
    const post = await this.posts.findOne({ where: { id } })
    if (post === null) return false
    await this.posts.remove(post)
    return true
  }

  async addComment(postId: number, input: NewComment): Promise<CommentDto | undefined> {
    if (!(await this.posts.exists({ where: { id: postId } }))) return undefined
    const author = await this.requireAuthor(input.authorId)
    const saved = await this.comments.save(
      this.comments.create({ body: input.body, postId, authorId: input.authorId }),
    )
    return commentDto({ ...saved, author })
  }

  async feed(read: ReadMode, query: FeedQuery): Promise<PostSummaryDto[]> {
    const qb = this.summaries().where('post.published = :published', { published: true })
    if (query.tag !== undefined) {
      qb.andWhere(
        'post.id IN (SELECT pt."A" FROM "_post_tags" pt INNER JOIN "tags" t ON t."id" = pt."B" WHERE t."name" = :tag)',
        { tag: query.tag },
      )
    }
    const posts = await qb.orderBy('post.id', 'DESC').take(query.take).cache(read.cache).getMany()
    return posts.map(postSummary)
  }

  async tags(read: ReadMode): Promise<TagDto[]> {
    const rows = await this.tagCounts().orderBy('tag.name', 'ASC').cache(read.cache).getRawMany<RawTagCount>()
    return rows.map(tagDto)
  }

  async home(read: ReadMode): Promise<HomeDto> {
    const [latest, topTags, users, posts, comments] = await Promise.all([
      this.feed(read, { take: 10 }),
      this.tagCounts()
        .orderBy('COUNT(post.id)', 'DESC')
        .addOrderBy('tag.name', 'ASC')
        .limit(8)
        .cache(read.cache)
        .getRawMany<RawTagCount>(),
      this.users_.count({ cache: read.cache }),
      this.posts.count({ cache: read.cache }),
      this.comments.count({ cache: read.cache }),
    ])
    return { latest, topTags: topTags.map(tagDto), totals: { users, posts, comments } }
  }

  async mostViewed(take: number): Promise<PostSummaryDto[]> {
    const posts = await this.summaries()
      .where('post.published = :published', { published: true })
      .orderBy('post.views', 'DESC')
      .addOrderBy('post.id', 'ASC')
      .take(take)
      .getMany()
    return posts.map(postSummary)
  }

  async storedViews(postId: number): Promise<number | undefined> {
    const post = await this.posts.findOne({ where: { id: postId }, select: { id: true, views: true } })
    return post?.views
  }

  async saveViews(batch: readonly { postId: number; views: number }[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      for (const { postId, views } of batch) await manager.update(PostEntity, { id: postId }, { views })
    })
  }

  private summaries(): SelectQueryBuilder<PostEntity> {
    return this.posts
      .createQueryBuilder('post')
      .innerJoinAndSelect('post.author', 'author')
      .leftJoinAndSelect('post.tags', 'tag')
  }

  private tagCounts(): SelectQueryBuilder<TagEntity> {
    return this.tagRepo
      .createQueryBuilder('tag')
      .leftJoin('tag.posts', 'post')
      .select('tag.name', 'name')
      .addSelect('COUNT(post.id)', 'posts')
      .groupBy('tag.id')
      .addGroupBy('tag.name')
  }

  private async requireAuthor(authorId: number): Promise<UserEntity> {
    const author = await this.users_.findOne({ where: { id: authorId }, cache: true })
    if (author === null)
      throw new InvalidFieldError('body/authorId', `refers to user ${authorId}, which does not exist`)
    return author
  }
}

interface RawTagCount {
  name: string
  /** A number on SQLite, a string on PostgreSQL (COUNT is bigint there). */
  posts: number | string
}

const tagDto = (row: RawTagCount): TagDto => ({ name: row.name, posts: Number(row.posts) })

async function findOrCreateTag(manager: EntityManager, name: string): Promise<TagEntity> {
  const existing = await manager.findOne(TagEntity, { where: { name } })
  return existing ?? (await manager.save(manager.create(TagEntity, { name })))
}
