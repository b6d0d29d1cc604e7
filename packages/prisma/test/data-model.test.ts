import { beforeAll, describe, expect, it } from 'vitest'
import { readClientInternals } from '../src/prisma-internals.js'
import { buildDataModel, type DataModel } from '../src/schema/data-model.js'
import { parseModels } from '../src/schema/psl.js'
import { generated } from './support/clients.js'
import { DIALECTS, openDatabase, TABLES } from './support/databases.js'

describe.each(DIALECTS)('data model derived from the %s client', (dialect) => {
  let model: DataModel
  let tables: string[]

  beforeAll(async () => {
    const database = await openDatabase(dialect)
    const { PrismaClient } = await generated(dialect)
    const client = new PrismaClient({ adapter: database.adapter() })
    const internals = readClientInternals(client)
    model = buildDataModel(internals.runtimeDataModel, internals.schema)
    tables = await database.tables()
    await client.$disconnect()
    await database.close()
  })

  it('maps every model to its @@map table, and every table exists in the committed DDL', () => {
    const mapped = [...model.models.values()].map((m) => m.table).sort()
    expect(mapped).toEqual([
      'comments',
      'groups',
      'memberships',
      'posts',
      'settings',
      'tags',
      'teams',
      'users',
    ])
    const expected = [...mapped, ...model.joinTables].sort()
    expect(expected).toEqual([...TABLES].sort())
    for (const table of expected) expect(tables).toContain(table)
  })

  it('reads single, string and composite primary keys with @map columns', () => {
    expect(model.models.get('User')!.primaryKey).toEqual({ fields: ['id'], columns: ['id'], whereKey: 'id' })
    expect(model.models.get('Setting')!.primaryKey).toEqual({
      fields: ['key'],
      columns: ['key'],
      whereKey: 'key',
    })
    expect(model.models.get('Membership')!.primaryKey).toEqual({
      fields: ['userId', 'teamId'],
      columns: ['user_id', 'team_id'],
      whereKey: 'userId_teamId',
    })
  })

  it('finds implicit many-to-many join tables, named by relation', () => {
    expect([...model.joinTables].sort()).toEqual(['_PostToTag', '_UserGroups'])
    expect(model.models.get('Post')!.relations.get('tags')!.joinTable).toBe('_PostToTag')
    expect(model.models.get('Group')!.relations.get('users')!.joinTable).toBe('_UserGroups')
    expect(model.models.get('User')!.joinTables).toEqual(['_UserGroups'])
    // The explicit many-to-many goes through its own model, not a join table.
    expect(model.models.get('User')!.relations.get('memberships')!.joinTable).toBeUndefined()
  })

  it('knows which side holds the foreign key, including the self-relation', () => {
    const user = model.models.get('User')!
    expect(user.relations.get('manager')).toMatchObject({
      holdsForeignKey: true,
      foreignKeyFields: ['managerId'],
    })
    expect(user.relations.get('reports')).toMatchObject({ holdsForeignKey: false, isList: true })
    expect(model.models.get('Post')!.relations.get('author')).toMatchObject({
      holdsForeignKey: true,
      oppositeIsList: true,
    })
  })

  it('builds the referential-action graph with defaults for unspecified actions', () => {
    const dependents = (name: string) =>
      model.models
        .get(name)!
        .dependents.map((d) => `${d.model}.${d.fields.join('+')}:${d.onDelete}/${d.onUpdate}`)
        .sort()
    expect(dependents('User')).toEqual([
      'Comment.authorId:SetNull/Cascade',
      'Membership.userId:Cascade/Cascade',
      'Post.authorId:Cascade/Cascade',
      'User.managerId:SetNull/Cascade',
    ])
    expect(dependents('Post')).toEqual(['Comment.postId:Cascade/Cascade'])
    expect(dependents('Tag')).toEqual([])
  })
})

describe('PSL reader', () => {
  it('reads relation arguments, compound ids and list markers, ignoring comments and strings', () => {
    const models = parseModels(`
      // model Fake { id Int @id }
      /* model Fake2 { id Int @id } */
      model A {
        x    Int
        y    String   @default("a // not a comment")
        bs   B[]      @relation("AB")
        c    C?       @relation(fields: [x, y], references: [id, code], onDelete: Cascade, onUpdate: NoAction)
        n    Unsupported("tsvector")?
        @@id(fields: [x, y], name: "pair")
        @@index([x,
                 y])
      }
      enum E { ONE TWO }
    `)
    expect([...models.keys()]).toEqual(['A'])
    const a = models.get('A')!
    expect(
      a.fields.map((f) => `${f.name}:${f.type}${f.isList ? '[]' : ''}${f.isOptional ? '?' : ''}`),
    ).toEqual(['x:Int', 'y:String', 'bs:B[]', 'c:C?', 'n:Unsupported(…)?'])
    const relation = a.fields[3]!.attributes.find((attr) => attr.name === 'relation')!
    expect(relation.args.named).toEqual({
      fields: ['x', 'y'],
      references: ['id', 'code'],
      onDelete: 'Cascade',
      onUpdate: 'NoAction',
    })
    expect(a.blockAttributes.map((attr) => attr.name)).toEqual(['id', 'index'])
    expect(a.blockAttributes[0]!.args.named).toEqual({ fields: ['x', 'y'], name: 'pair' })
  })

  it('marks views, whose source tables are unknown', () => {
    const model = buildDataModel(
      {
        models: {
          Stats: { dbName: 'user_stats', fields: [{ name: 'userId', kind: 'scalar', type: 'Int' }] },
        },
      },
      'view Stats {\n  userId Int @unique\n  @@map("user_stats")\n}',
    )
    expect(model.models.get('Stats')).toMatchObject({
      table: 'user_stats',
      isView: true,
      primaryKey: undefined,
    })
  })

  it('treats an unreadable referential action as Cascade (over-invalidating is safe)', () => {
    const model = buildDataModel(
      {
        models: {
          P: {
            dbName: null,
            fields: [
              { name: 'id', kind: 'scalar', type: 'Int' },
              { name: 'cs', kind: 'object', type: 'C', relationName: 'CP' },
            ],
          },
          C: {
            dbName: null,
            fields: [
              { name: 'id', kind: 'scalar', type: 'Int' },
              { name: 'pId', kind: 'scalar', type: 'Int' },
              { name: 'p', kind: 'object', type: 'P', relationName: 'CP' },
            ],
          },
        },
      },
      'model P {\n id Int @id\n cs C[]\n}\nmodel C {\n id Int @id\n pId Int\n p P @relation(fields: [pId], references: [id], onDelete: Weird)\n}',
    )
    expect(model.models.get('P')!.dependents[0]!.onDelete).toBe('Cascade')
    expect(model.models.get('P')!.dependents[0]!.onUpdate).toBe('Cascade')
  })
})
