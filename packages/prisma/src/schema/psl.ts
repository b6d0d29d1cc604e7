/**
 * A deliberately small reader for the parts of a Prisma schema (PSL) that the client's runtime
 * data model leaves out: list/optional markers, `@id` / `@@id`, and `@relation(fields, references,
 * onDelete, onUpdate)`. Everything else (names, `@@map`, `@map`, relation names) comes from the
 * runtime data model, which is authoritative. Unknown syntax is skipped, never guessed at.
 */

export type PslValue = string | PslValue[] | { call: string; args: PslArgs }

export interface PslArgs {
  positional: PslValue[]
  named: Record<string, PslValue>
}

export interface PslAttribute {
  name: string
  args: PslArgs
}

export interface PslField {
  name: string
  type: string
  isList: boolean
  isOptional: boolean
  attributes: PslAttribute[]
}

export interface PslModel {
  name: string
  /** `view` blocks: read-only, over tables the schema does not name. */
  isView: boolean
  fields: PslField[]
  blockAttributes: PslAttribute[]
}

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'punct'; text: string }
  | { kind: 'newline' }

export function parseModels(schema: string): Map<string, PslModel> {
  const tokens = tokenize(schema)
  const models = new Map<string, PslModel>()
  let i = 0
  while (i < tokens.length) {
    const token = tokens[i]!
    const name = tokens[i + 1]
    const open = nextNonNewline(tokens, i + 2)
    if (
      token.kind === 'word' &&
      (token.text === 'model' || token.text === 'view') &&
      name?.kind === 'word' &&
      open !== undefined &&
      isPunct(tokens[open], '{')
    ) {
      const end = matching(tokens, open)
      models.set(name.text, parseBody(name.text, token.text === 'view', tokens.slice(open + 1, end)))
      i = end + 1
    } else if (isPunct(token, '{')) {
      i = matching(tokens, i) + 1
    } else {
      i++
    }
  }
  return models
}

function parseBody(name: string, isView: boolean, tokens: Token[]): PslModel {
  const model: PslModel = { name, isView, fields: [], blockAttributes: [] }
  for (const line of splitLines(tokens)) {
    const first = line[0]
    if (first === undefined) continue
    if (isPunct(first, '@') && isPunct(line[1], '@')) {
      const attributes = parseAttributes(line, 1)
      model.blockAttributes.push(...attributes)
      continue
    }
    const typeToken = line[1]
    if (first.kind !== 'word' || typeToken?.kind !== 'word') continue
    let j = 2
    let type = typeToken.text
    if (isPunct(line[j], '(')) {
      // Unsupported("…") and other parameterised types.
      const end = matching(line, j)
      type = `${type}(…)`
      j = end + 1
    }
    let isList = false
    let isOptional = false
    if (isPunct(line[j], '[') && isPunct(line[j + 1], ']')) {
      isList = true
      j += 2
    }
    if (isPunct(line[j], '?')) {
      isOptional = true
      j++
    }
    model.fields.push({ name: first.text, type, isList, isOptional, attributes: parseAttributes(line, j) })
  }
  return model
}

/** Attributes start at `@`; `@@x` when called on a block-attribute line (start points at the second `@`). */
function parseAttributes(line: Token[], start: number): PslAttribute[] {
  const attributes: PslAttribute[] = []
  let i = start
  while (i < line.length) {
    if (!isPunct(line[i], '@')) {
      i++
      continue
    }
    let j = i + 1
    let name = ''
    // Dotted names: @db.VarChar
    while (line[j]?.kind === 'word') {
      name += (line[j] as { text: string }).text
      if (isPunct(line[j + 1], '.')) {
        name += '.'
        j += 2
      } else {
        j++
        break
      }
    }
    let args: PslArgs = { positional: [], named: {} }
    if (isPunct(line[j], '(')) {
      const end = matching(line, j)
      args = parseArgs(line.slice(j + 1, end))
      j = end + 1
    }
    if (name !== '') attributes.push({ name, args })
    i = j
  }
  return attributes
}

function parseArgs(tokens: Token[]): PslArgs {
  const args: PslArgs = { positional: [], named: {} }
  for (const part of splitTopLevel(tokens, ',')) {
    if (part.length === 0) continue
    const head = part[0]!
    if (head.kind === 'word' && isPunct(part[1], ':')) {
      args.named[head.text] = parseValue(part.slice(2))
    } else {
      args.positional.push(parseValue(part))
    }
  }
  return args
}

function parseValue(tokens: Token[]): PslValue {
  const head = tokens[0]
  if (head === undefined) return ''
  if (isPunct(head, '[')) {
    const end = matching(tokens, 0)
    return splitTopLevel(tokens.slice(1, end), ',')
      .filter((part) => part.length > 0)
      .map(parseValue)
  }
  if (head.kind === 'word' && isPunct(tokens[1], '(')) {
    const end = matching(tokens, 1)
    return { call: head.text, args: parseArgs(tokens.slice(2, end)) }
  }
  if (head.kind === 'string' || head.kind === 'word') {
    // `a.b` (e.g. dotted references) is kept as text.
    return tokens.map((t) => (t.kind === 'newline' ? '' : t.text)).join('')
  }
  return ''
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const ch = source[i]!
    if (ch === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++
      continue
    }
    if (ch === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2)
      i = end === -1 ? source.length : end + 2
      continue
    }
    if (ch === '\n') {
      tokens.push({ kind: 'newline' })
      i++
      continue
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++
      continue
    }
    if (ch === '"') {
      let j = i + 1
      let text = ''
      while (j < source.length && source[j] !== '"') {
        if (source[j] === '\\' && j + 1 < source.length) {
          text += source[j + 1]
          j += 2
        } else {
          text += source[j]
          j++
        }
      }
      tokens.push({ kind: 'string', text })
      i = j + 1
      continue
    }
    const word = /^[A-Za-z0-9_-]+/.exec(source.slice(i, i + 256))
    if (word !== null) {
      tokens.push({ kind: 'word', text: word[0] })
      i += word[0].length
      continue
    }
    tokens.push({ kind: 'punct', text: ch })
    i++
  }
  return tokens
}

/** Lines of a block body; a newline inside (), [] or {} does not end a line. */
function splitLines(tokens: Token[]): Token[][] {
  const lines: Token[][] = [[]]
  let depth = 0
  for (const token of tokens) {
    if (token.kind === 'newline') {
      if (depth === 0) lines.push([])
      continue
    }
    if (token.kind === 'punct') {
      if (token.text === '(' || token.text === '[' || token.text === '{') depth++
      else if (token.text === ')' || token.text === ']' || token.text === '}') depth = Math.max(0, depth - 1)
    }
    lines[lines.length - 1]!.push(token)
  }
  return lines.filter((line) => line.length > 0)
}

function splitTopLevel(tokens: Token[], separator: string): Token[][] {
  const parts: Token[][] = [[]]
  let depth = 0
  for (const token of tokens) {
    if (token.kind === 'newline') continue
    if (token.kind === 'punct') {
      if (token.text === '(' || token.text === '[' || token.text === '{') depth++
      else if (token.text === ')' || token.text === ']' || token.text === '}') depth--
      else if (token.text === separator && depth === 0) {
        parts.push([])
        continue
      }
    }
    parts[parts.length - 1]!.push(token)
  }
  return parts
}

/** Index of the bracket closing the one at `open`; the end of input when unbalanced. */
function matching(tokens: Token[], open: number): number {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' }
  const start = tokens[open]
  if (start?.kind !== 'punct') return tokens.length
  const close = pairs[start.text]
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.kind !== 'punct') continue
    if (token.text === start.text) depth++
    else if (token.text === close) {
      depth--
      if (depth === 0) return i
    }
  }
  return tokens.length
}

function nextNonNewline(tokens: Token[], from: number): number | undefined {
  for (let i = from; i < tokens.length; i++) if (tokens[i]!.kind !== 'newline') return i
  return undefined
}

function isPunct(token: Token | undefined, text: string): boolean {
  return token?.kind === 'punct' && token.text === text
}

export function attribute(list: readonly PslAttribute[], name: string): PslAttribute | undefined {
  return list.find((a) => a.name === name)
}

/** `[a, b]` as names; anything else as an empty list. */
export function nameList(value: PslValue | undefined): string[] {
  if (!Array.isArray(value)) return []
  return value.filter((v): v is string => typeof v === 'string')
}
