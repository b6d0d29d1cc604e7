import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm'
import type { PostEntity } from './post.js'
import type { UserEntity } from './user.js'

/** The `comments` table that Prisma's `Comment` model maps too. */
@Entity({ name: 'comments' })
export class CommentEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'text' })
  body!: string

  @Column({ name: 'post_id', type: 'integer' })
  postId!: number

  @ManyToOne('PostEntity', (post: PostEntity) => post.comments, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'post_id' })
  post?: PostEntity

  @Column({ name: 'author_id', type: 'integer' })
  authorId!: number

  @ManyToOne('UserEntity', (user: UserEntity) => user.comments, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'author_id' })
  author?: UserEntity

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date
}
