import type { Author, CommentDto, PostSummaryDto, UserDto } from './types.js'

/** Both ORMs' rows become the same JSON, so a client (and the tests) cannot tell them apart. */
export const iso = (date: Date): string => date.toISOString()

export const author = (user: { id: number; name: string }): Author => ({ id: user.id, name: user.name })

export function userDto(user: {
  id: number
  email: string
  name: string
  bio: string
  createdAt: Date
}): UserDto {
  return { id: user.id, email: user.email, name: user.name, bio: user.bio, createdAt: iso(user.createdAt) }
}

export function postSummary(post: {
  id: number
  title: string
  views: number
  createdAt: Date
  author?: { id: number; name: string } | undefined
  tags?: { name: string }[] | undefined
}): PostSummaryDto {
  return {
    id: post.id,
    title: post.title,
    views: post.views,
    createdAt: iso(post.createdAt),
    author: author(required(post.author, 'author')),
    tags: (post.tags ?? []).map((t) => t.name).sort(),
  }
}

export function commentDto(comment: {
  id: number
  body: string
  createdAt: Date
  author?: { id: number; name: string } | undefined
}): CommentDto {
  return {
    id: comment.id,
    body: comment.body,
    createdAt: iso(comment.createdAt),
    author: author(required(comment.author, 'author')),
  }
}

function required<T>(value: T | undefined, relation: string): T {
  if (value === undefined) throw new Error(`the query did not load the ${relation} relation`)
  return value
}
