import type { DeadLetterRecord, QueuedWrite } from './queue.js'

/** Stream entry fields as ioredis returns them; null for an entry deleted while still pending. */
export type Fields = (string | null)[] | null
export type RawEntry = [id: string, fields: Fields]

/** Field layout of a queued write: k = key, v = payload, g = tags (JSON, '' for none), t = writtenAt. */
export function entryArgs(write: Omit<QueuedWrite, 'id'>): string[] {
  return [write.key, write.payload, encodeTags(write.tags), String(write.writtenAt)]
}

export function encodeTags(tags: readonly string[]): string {
  return tags.length === 0 ? '' : JSON.stringify(tags)
}

/** A queued write, or undefined for a deleted entry or one this queue did not write. */
export function parseEntry(id: string, fields: Fields): QueuedWrite | undefined {
  if (fields === null) return undefined
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), String(fields[i + 1]))
  const key = map.get('k')
  const payload = map.get('v')
  const writtenAt = Number(map.get('t'))
  const tags = parseTags(map.get('g') ?? '')
  if (!key || payload === undefined || !Number.isFinite(writtenAt) || tags === undefined) return undefined
  return { id, key, payload, tags, writtenAt }
}

function parseTags(text: string): string[] | undefined {
  if (text === '') return []
  try {
    const tags: unknown = JSON.parse(text)
    return Array.isArray(tags) && tags.every((tag) => typeof tag === 'string') ? tags : undefined
  } catch {
    return undefined
  }
}

/** The dead-letter list stores records as JSON; `replay` removes one by its exact text. */
export function encodeRecord(record: DeadLetterRecord): string {
  const { id, key, payload, tags, writtenAt, failedAt, attempts, error } = record
  return JSON.stringify({ id, key, payload, tags, writtenAt, failedAt, attempts, error })
}

export function parseRecord(raw: string): DeadLetterRecord | undefined {
  try {
    const value = JSON.parse(raw) as Partial<DeadLetterRecord>
    if (typeof value.id !== 'string' || typeof value.key !== 'string' || typeof value.payload !== 'string') {
      return undefined
    }
    return {
      id: value.id,
      key: value.key,
      payload: value.payload,
      tags: Array.isArray(value.tags) ? value.tags : [],
      writtenAt: Number(value.writtenAt),
      failedAt: Number(value.failedAt),
      attempts: Number(value.attempts),
      error: String(value.error),
    }
  } catch {
    return undefined
  }
}
