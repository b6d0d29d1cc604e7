import { normalizeTable } from '@ormcache/core/adapter'
import { attribute, nameList, type PslField, type PslModel, parseModels } from './psl.js'

/**
 * What the cache needs to know about a Prisma schema: tables (after @@map), primary keys, and for
 * every relation which side holds the foreign key, the implicit many-to-many join table, and the
 * referential actions. Built once per client from the runtime data model (names, @map, relation
 * names) and the schema text the client carries (ids, relation arguments, list markers).
 */

export type ReferentialAction = 'Cascade' | 'SetNull' | 'SetDefault' | 'Restrict' | 'NoAction'

export interface PrimaryKey {
  fields: string[]
  /** Database column of each field, in the same order. */
  columns: string[]
  /** The `where` key of a unique lookup: the field itself, or the compound name (`a_b`). */
  whereKey: string
}

export interface RelationInfo {
  field: string
  target: string
  isList: boolean
  relationName: string
  /** The foreign-key columns live on this model's table (`@relation(fields: …)` is on this side). */
  holdsForeignKey: boolean
  /** Foreign-key fields on this model (empty unless holdsForeignKey). */
  foreignKeyFields: string[]
  /** The opposite side is a list (one-to-many seen from the foreign-key side). */
  oppositeIsList: boolean
  /** Implicit many-to-many: the `_AToB` join table. */
  joinTable: string | undefined
}

/** A model whose rows point at this one through a foreign key. */
export interface Dependent {
  model: string
  /** Foreign-key fields on the dependent model. */
  fields: string[]
  /** Referenced fields on this model. */
  references: string[]
  onDelete: ReferentialAction
  onUpdate: ReferentialAction
}

export interface ModelInfo {
  name: string
  table: string
  /** A database view: its rows come from tables the schema does not name. */
  isView: boolean
  primaryKey: PrimaryKey | undefined
  /** Scalar field name → database column. */
  columns: Map<string, string>
  /**
   * Scalar fields whose equality filters become column-value tags: Int, BigInt and Boolean,
   * where SQL equality is equality of the normalized value (no collation, scale or time zone).
   */
  pinnable: Set<string>
  relations: Map<string, RelationInfo>
  dependents: Dependent[]
  /** Implicit many-to-many join tables with a foreign key to this model (ON DELETE/UPDATE CASCADE). */
  joinTables: string[]
}

export interface DataModel {
  models: Map<string, ModelInfo>
  /** Normalized table name → model, for raw SQL. */
  byTable: Map<string, ModelInfo>
  joinTables: Set<string>
}

/** The shape of `client._runtimeDataModel` across Prisma 5–7 (7 keeps only names and kinds). */
export interface RuntimeFieldLike {
  name: string
  kind: string
  type: string
  dbName?: string | null
  relationName?: string | null
  isList?: boolean
  isId?: boolean
  isRequired?: boolean
  relationFromFields?: readonly string[]
  relationToFields?: readonly string[]
  relationOnDelete?: string | null
  relationOnUpdate?: string | null
}

export interface RuntimeModelLike {
  dbName?: string | null
  fields: readonly RuntimeFieldLike[]
  primaryKey?: { name?: string | null; fields: readonly string[] } | null
}

export interface RuntimeDataModelLike {
  models: Readonly<Record<string, RuntimeModelLike>>
}

const PINNABLE_TYPES = new Set(['Int', 'BigInt', 'Boolean'])
const ACTIONS = new Set<string>(['Cascade', 'SetNull', 'SetDefault', 'Restrict', 'NoAction'])

interface FieldFacts {
  isList: boolean
  isOptional: boolean
  isId: boolean
  fkFields: string[]
  references: string[]
  onDelete: string | undefined
  onUpdate: string | undefined
}

export function buildDataModel(runtime: RuntimeDataModelLike, schemaText: string | undefined): DataModel {
  const psl = schemaText === undefined ? new Map<string, PslModel>() : parseModels(schemaText)
  const models = new Map<string, ModelInfo>()
  const byTable = new Map<string, ModelInfo>()
  const joinTables = new Set<string>()
  const facts = new Map<string, Map<string, FieldFacts>>()

  for (const [name, model] of Object.entries(runtime.models)) {
    const pslModel = psl.get(name)
    const modelFacts = new Map<string, FieldFacts>()
    for (const field of model.fields) modelFacts.set(field.name, fieldFacts(field, pslModel))
    facts.set(name, modelFacts)

    const columns = new Map<string, string>()
    const pinnable = new Set<string>()
    for (const field of model.fields) {
      if (field.kind === 'object') continue
      columns.set(field.name, field.dbName ?? field.name)
      const psl = pslModel?.fields.find((f) => f.name === field.name)
      const type = psl?.type ?? field.type
      if (field.kind === 'scalar' && !(psl?.isList ?? field.isList) && PINNABLE_TYPES.has(type))
        pinnable.add(field.name)
    }
    const info: ModelInfo = {
      name,
      table: model.dbName ?? name,
      isView: pslModel?.isView ?? false,
      primaryKey: primaryKey(model, pslModel, modelFacts, columns),
      columns,
      pinnable,
      relations: new Map(),
      dependents: [],
      joinTables: [],
    }
    models.set(name, info)
    byTable.set(normalizeTable(info.table), info)
  }

  for (const [name, model] of Object.entries(runtime.models)) {
    const info = models.get(name)!
    for (const field of model.fields) {
      if (field.kind !== 'object') continue
      const own = facts.get(name)!.get(field.name)!
      const relationName = field.relationName ?? ''
      const opposite = oppositeField(runtime, name, field)
      const other = opposite === undefined ? undefined : facts.get(field.type)?.get(opposite.name)
      const implicitManyToMany =
        own.isList && other?.isList === true && own.fkFields.length === 0 && other.fkFields.length === 0
      const joinTable = implicitManyToMany ? `_${relationName}` : undefined
      if (joinTable !== undefined) {
        joinTables.add(joinTable)
        if (!info.joinTables.includes(joinTable)) info.joinTables.push(joinTable)
      }
      info.relations.set(field.name, {
        field: field.name,
        target: field.type,
        isList: own.isList,
        relationName,
        holdsForeignKey: own.fkFields.length > 0,
        foreignKeyFields: own.fkFields,
        // Unknown opposite: assume one-to-one, the case that needs more invalidation.
        oppositeIsList: other?.isList ?? false,
        joinTable,
      })
      if (own.fkFields.length > 0) {
        // This model references field.type: register it as a dependent of the referenced model.
        const required = own.fkFields.some((fk) => facts.get(name)?.get(fk)?.isOptional === false)
        models.get(field.type)?.dependents.push({
          model: name,
          fields: own.fkFields,
          references: own.references,
          onDelete: action(own.onDelete, required ? 'Restrict' : 'SetNull'),
          onUpdate: action(own.onUpdate, 'Cascade'),
        })
      }
    }
  }
  return { models, byTable, joinTables }
}

function fieldFacts(field: RuntimeFieldLike, pslModel: PslModel | undefined): FieldFacts {
  const psl: PslField | undefined = pslModel?.fields.find((f) => f.name === field.name)
  const relation = psl === undefined ? undefined : attribute(psl.attributes, 'relation')
  return {
    isList: field.isList ?? psl?.isList ?? false,
    isOptional: field.isRequired === undefined ? (psl?.isOptional ?? true) : !field.isRequired,
    isId: field.isId ?? (psl !== undefined && attribute(psl.attributes, 'id') !== undefined),
    fkFields: [...(field.relationFromFields ?? nameList(relation?.args.named.fields))],
    references: [...(field.relationToFields ?? nameList(relation?.args.named.references))],
    onDelete: field.relationOnDelete ?? stringArg(relation?.args.named.onDelete),
    onUpdate: field.relationOnUpdate ?? stringArg(relation?.args.named.onUpdate),
  }
}

function primaryKey(
  model: RuntimeModelLike,
  pslModel: PslModel | undefined,
  facts: Map<string, FieldFacts>,
  columns: Map<string, string>,
): PrimaryKey | undefined {
  let fields: string[] = []
  let name: string | undefined
  if (model.primaryKey?.fields?.length) {
    fields = [...model.primaryKey.fields]
    name = model.primaryKey.name ?? undefined
  } else {
    const compound = pslModel === undefined ? undefined : attribute(pslModel.blockAttributes, 'id')
    if (compound !== undefined) {
      fields = nameList(compound.args.named.fields ?? compound.args.positional[0])
      name = stringArg(compound.args.named.name)
    } else {
      fields = [...facts].filter(([, f]) => f.isId).map(([field]) => field)
    }
  }
  if (fields.length === 0 || fields.some((f) => !columns.has(f))) return undefined
  return {
    fields,
    columns: fields.map((f) => columns.get(f)!),
    whereKey: fields.length === 1 ? fields[0]! : (name ?? fields.join('_')),
  }
}

/** The field on the other model with the same relation name (for self-relations: the other field). */
function oppositeField(
  runtime: RuntimeDataModelLike,
  modelName: string,
  field: RuntimeFieldLike,
): RuntimeFieldLike | undefined {
  const target = runtime.models[field.type]
  if (target === undefined) return undefined
  return target.fields.find(
    (f) =>
      f.kind === 'object' &&
      f.relationName === field.relationName &&
      f.type === modelName &&
      !(field.type === modelName && f.name === field.name),
  )
}

function stringArg(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function action(value: string | undefined, fallback: ReferentialAction): ReferentialAction {
  // Anything we cannot read is treated as Cascade: over-invalidating is safe, missing a change is not.
  if (value === undefined) return fallback
  return ACTIONS.has(value) ? (value as ReferentialAction) : 'Cascade'
}
