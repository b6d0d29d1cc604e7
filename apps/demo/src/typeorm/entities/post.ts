import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
} from 'typeorm'
import type { CommentEntity } from './comment.js'
import type { TagEntity } from './tag.js'
import type { UserEntity } from './user.js'

/** The `posts` table that Prisma's `Post` model maps too. */
@Entity({ name: 'posts' })
export class PostEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'text' })
  title!: string

  @Column({ type: 'text' })
  body!: string

  @Column({ type: 'boolean', default: true })
  published!: boolean

  @Column({ type: 'integer', default: 0 })
  views!: number

  @Column({ name: 'author_id', type: 'integer' })
  authorId!: number

  @ManyToOne('UserEntity', (user: UserEntity) => user.posts, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'author_id' })
  author?: UserEntity

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date

  @OneToMany('CommentEntity', (comment: CommentEntity) => comment.post)
  comments?: CommentEntity[]

  // Prisma's implicit many-to-many table: "A" is the post, "B" the tag (Prisma orders the two
  // sides by model name). Mapping it here lets both ORMs share one tag vocabulary.
  @ManyToMany('TagEntity', (tag: TagEntity) => tag.posts)
  @JoinTable({
    name: '_post_tags',
    joinColumn: { name: 'A', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'B', referencedColumnName: 'id' },
  })
  tags?: TagEntity[]
}
