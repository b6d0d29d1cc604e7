import { EntitySchema } from 'typeorm'

/**
 * The bench tables as TypeORM entity schemas (no decorators, so the code runs under tsx/esbuild
 * without emitDecoratorMetadata). Property names match the Prisma models.
 */
export interface TeamEntity {
  id: number
  name: string
}

export interface UserEntity {
  id: number
  teamId: number
  email: string
  name: string
  bio: string
  version: number
  createdAt: Date
  posts?: PostEntity[]
}

export interface PostEntity {
  id: number
  authorId: number
  title: string
  body: string
  published: boolean
  views: number
  version: number
  author?: UserEntity
}

export const Team = new EntitySchema<TeamEntity>({
  name: 'Team',
  tableName: 'bench_team',
  columns: { id: { type: 'int', primary: true }, name: { type: 'text' } },
})

export const User = new EntitySchema<UserEntity>({
  name: 'User',
  tableName: 'bench_user',
  columns: {
    id: { type: 'int', primary: true },
    teamId: { type: 'int', name: 'team_id' },
    email: { type: 'text' },
    name: { type: 'text' },
    bio: { type: 'text' },
    version: { type: 'int', default: 0 },
    createdAt: { type: 'timestamptz', name: 'created_at', precision: 3 },
  },
  relations: {
    posts: { type: 'one-to-many', target: 'Post', inverseSide: 'author' },
  },
})

export const Post = new EntitySchema<PostEntity>({
  name: 'Post',
  tableName: 'bench_post',
  columns: {
    id: { type: 'int', primary: true },
    authorId: { type: 'int', name: 'author_id' },
    title: { type: 'text' },
    body: { type: 'text' },
    published: { type: 'boolean' },
    views: { type: 'int' },
    version: { type: 'int', default: 0 },
  },
  relations: {
    author: { type: 'many-to-one', target: 'User', joinColumn: { name: 'author_id' }, inverseSide: 'posts' },
  },
})

export const ENTITIES = [Team, User, Post]
