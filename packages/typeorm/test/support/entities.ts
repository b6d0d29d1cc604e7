import {
  Column,
  CreateDateColumn,
  DeleteDateColumn,
  Entity,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm'
import type { Dialect } from './databases.js'

/**
 * The test schema, built per dialect because column types differ (bytea vs blob, timestamptz vs
 * datetime). Custom table names everywhere, so tags must come from real table names.
 */
export function defineEntities(dialect: Dialect) {
  const types = {
    postgres: { time: 'timestamptz', bytes: 'bytea', json: 'jsonb', decimal: 'numeric', bigint: 'bigint' },
    mysql: { time: 'datetime', bytes: 'blob', json: 'json', decimal: 'decimal', bigint: 'bigint' },
    sqlite: { time: 'datetime', bytes: 'blob', json: 'simple-json', decimal: 'decimal', bigint: 'bigint' },
  }[dialect]
  const precision = dialect === 'mysql' ? { precision: 3 } : {}

  @Entity({ name: 'app_categories' })
  class Category {
    @PrimaryGeneratedColumn()
    id!: number
    @Column({ type: 'varchar', length: 100 })
    name!: string
  }

  @Entity({ name: 'app_tags' })
  class Tag {
    @PrimaryGeneratedColumn()
    id!: number
    @Column({ type: 'varchar', length: 100 })
    label!: string
    /**
     * The inverse side of Post.tags: the same junction, read from the tag. TypeORM 0.3 gives the
     * inverse foreign key NO ACTION unless this side says CASCADE (1.x defaults to CASCADE).
     */
    @ManyToMany(
      () => Post,
      (post) => post.tags,
      { onDelete: 'CASCADE' },
    )
    posts!: Post[]
  }

  @Entity({ name: 'app_users' })
  class User {
    @PrimaryGeneratedColumn()
    id!: number
    @Column({ type: 'varchar', length: 100 })
    name!: string
    @Column({ type: types.decimal as 'decimal', precision: 12, scale: 2, default: 0 })
    balance!: string
    @Column({ type: types.bigint as 'bigint', default: 0 })
    visits!: string
    @Column({ type: types.bytes as 'blob', nullable: true })
    avatar!: Buffer | null
    @Column({ type: types.json as 'json', nullable: true })
    settings!: Record<string, unknown> | null
    @Column({ type: types.time as 'datetime', nullable: true, ...precision })
    lastSeen!: Date | null
    @CreateDateColumn({ type: types.time as 'datetime', ...precision })
    createdAt!: Date
    @DeleteDateColumn({ type: types.time as 'datetime', nullable: true, ...precision })
    deletedAt!: Date | null
    @OneToMany(
      () => Post,
      (post) => post.author,
    )
    posts!: Post[]
  }

  @Entity({ name: 'app_posts' })
  class Post {
    @PrimaryGeneratedColumn()
    id!: number
    @Column({ type: 'varchar', length: 200 })
    title!: string
    @Column({ type: 'int', default: 0 })
    likes!: number
    @ManyToOne(
      () => User,
      (user) => user.posts,
      { onDelete: 'CASCADE', nullable: false },
    )
    author!: User
    @Column({ type: 'int' })
    authorId!: number
    @ManyToOne(() => Category, { eager: true, nullable: true, onDelete: 'SET NULL' })
    category!: Category | null
    @ManyToMany(
      () => Tag,
      (tag) => tag.posts,
    )
    @JoinTable({ name: 'app_post_tags' })
    tags!: Tag[]
  }

  /** Composite primary key. */
  @Entity({ name: 'app_memberships' })
  class Membership {
    @PrimaryColumn({ type: 'int' })
    userId!: number
    @PrimaryColumn({ type: 'varchar', length: 50 })
    groupCode!: string
    @Column({ type: 'varchar', length: 50 })
    role!: string
  }

  return { User, Post, Tag, Category, Membership, all: [User, Post, Tag, Category, Membership] }
}

export type Entities = ReturnType<typeof defineEntities>
