import type { DataSource } from 'typeorm'
import type { Entities } from './entities.js'

/** The reads whose cached answers must equal the database at the end of a randomized run. */
export function checkedReads(ds: DataSource, e: Entities, ids: number[], postIds: number[], cache: boolean) {
  return Promise.all([
    ...ids.map((id) => ds.getRepository(e.User).findOne({ where: { id }, cache })),
    ...postIds.map((id) =>
      ds.createQueryBuilder(e.Post, 'p').where('p.id = :id', { id }).cache(cache).getOne(),
    ),
    ds.getRepository(e.User).find({ order: { id: 'ASC' }, cache }),
    ds
      .getRepository(e.Post)
      .find({ relations: { author: true, tags: true }, order: { id: 'ASC', tags: { id: 'ASC' } }, cache }),
    ds.getRepository(e.Post).count({ where: { likes: 0 }, cache }),
    ds.getRepository(e.Tag).find({ order: { id: 'ASC' }, cache }),
  ])
}

/** One random operation: mostly reads, and every kind of write path. */
export async function randomOp(
  ds: DataSource,
  e: Entities,
  ids: number[],
  postIds: number[],
  random: (n: number) => number,
  tag: string,
): Promise<unknown> {
  const id = ids[random(ids.length)]!
  const postId = postIds[random(postIds.length)]!
  switch (random(14)) {
    case 0:
      return ds.getRepository(e.User).update(id, { name: `u${tag}` })
    case 1: {
      const user = await ds.getRepository(e.User).findOne({ where: { id }, cache: false })
      if (user === null) return undefined
      user.visits = String(Number(user.visits) + 1)
      return ds.getRepository(e.User).save(user)
    }
    case 2:
      return ds.getRepository(e.Post).increment({ id: postId }, 'likes', 1)
    case 3:
      return ds.query('UPDATE app_posts SET title = $1 WHERE id = $2', [`raw${tag}`, postId])
    case 4:
      return ds.transaction(async (em) => {
        await em.update(e.User, id, { name: `t${tag}` })
        await em.update(e.Post, postId, { likes: 0 })
      })
    case 5:
      return ds
        .transaction(async (em) => {
          await em.update(e.User, id, { name: `rolled${tag}` })
          throw new Error('rollback')
        })
        .catch(() => undefined)
    case 6:
      return ds.getRepository(e.Tag).update({ label: 'red' }, { label: 'red' })
    case 7:
      return ds
        .getRepository(e.Post)
        .find({ relations: { author: true, tags: true }, order: { id: 'ASC', tags: { id: 'ASC' } } })
    case 8:
      return ds.getRepository(e.User).find({ order: { id: 'ASC' } })
    case 9:
      return ds.getRepository(e.Post).count({ where: { likes: 0 } })
    case 10:
      return ds.createQueryBuilder(e.Post, 'p').where('p.id = :id', { id: postId }).getOne()
    default:
      return ds.getRepository(e.User).findOneBy({ id })
  }
}
