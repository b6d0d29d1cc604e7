import { CommentEntity } from './comment.js'
import { PostEntity } from './post.js'
import { TagEntity } from './tag.js'
import { UserEntity } from './user.js'

export { CommentEntity, PostEntity, TagEntity, UserEntity }

export const entities = [UserEntity, PostEntity, CommentEntity, TagEntity]
