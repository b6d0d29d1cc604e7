import { Column, CreateDateColumn, Entity, OneToMany, PrimaryGeneratedColumn } from 'typeorm'
import type { CommentEntity } from './comment.js'
import type { PostEntity } from './post.js'

/** The `users` table that Prisma's `User` model maps too. */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'text' })
  email!: string

  @Column({ type: 'text' })
  name!: string

  @Column({ type: 'text', default: '' })
  bio!: string

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date

  // Relation targets by name: entity modules import each other only as types, so ESM never
  // meets a half-initialized class.
  @OneToMany('PostEntity', (post: PostEntity) => post.author)
  posts?: PostEntity[]

  @OneToMany('CommentEntity', (comment: CommentEntity) => comment.author)
  comments?: CommentEntity[]
}
