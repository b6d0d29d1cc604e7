/**
 * JSON schemas of the request bodies and parameters. Bodies are validated without type
 * coercion ("5" is not an integer) and unknown fields are refused, so a typo answers 400 instead
 * of being silently ignored.
 */
const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, pattern: '\\S' }) as const
const id = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9]+$' } },
  required: ['id'],
} as const

export const listQuery = {
  type: 'object',
  properties: {
    take: { type: 'string', pattern: '^[0-9]+$' },
    tag: { type: 'string', minLength: 1, maxLength: 30 },
    cache: { type: 'string', enum: ['on', 'off'] },
  },
} as const

export const cacheQuery = {
  type: 'object',
  properties: { cache: { type: 'string', enum: ['on', 'off'] } },
} as const

export const newUserBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'name'],
  properties: {
    email: { type: 'string', format: 'email', maxLength: 200 },
    name: text(100),
    bio: { type: 'string', maxLength: 500 },
  },
} as const

export const userPatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    email: { type: 'string', format: 'email', maxLength: 200 },
    name: text(100),
    bio: { type: 'string', maxLength: 500 },
  },
} as const

export const newPostBody = {
  type: 'object',
  additionalProperties: false,
  required: ['authorId', 'title', 'body'],
  properties: {
    authorId: id,
    title: text(200),
    body: text(10_000),
    published: { type: 'boolean' },
    tags: {
      type: 'array',
      maxItems: 5,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,29}$' },
    },
  },
} as const

export const newCommentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['authorId', 'body'],
  properties: { authorId: id, body: text(2_000) },
} as const

export const scenarioBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    orm: { type: 'string', enum: ['prisma', 'typeorm', 'both'] },
    cache: { type: 'string', enum: ['off', 'on', 'both'] },
    requests: { type: 'integer', minimum: 1, maximum: 10_000 },
    concurrency: { type: 'integer', minimum: 1, maximum: 256 },
  },
} as const
