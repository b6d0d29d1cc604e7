import { Column, Entity, ManyToMany, PrimaryGeneratedColumn } from 'typeorm'
import type { PostEntity } from './post.js'

/** The `tags` table that Prisma's `Tag` model maps too; one vocabulary for both ORMs. */
@Entity({ name: 'tags' })
export class TagEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number

  @Column({ type: 'text' })
  name!: string

  @ManyToMany('PostEntity', (post: PostEntity) => post.tags)
  posts?: PostEntity[]
}
