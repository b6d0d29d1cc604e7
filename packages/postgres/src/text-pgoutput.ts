import { type Pgoutput, PgoutputPlugin } from 'pg-logical-replication'

const asText = (text: unknown): unknown => text

/**
 * pgoutput through pg-logical-replication, with column values left as PostgreSQL's text output.
 * The library parses values with node-postgres' global type parsers, which depend on the
 * process's time zone and on parsers the application may have replaced; tags must be built from
 * a representation that is the same in every process (values.ts). The parser keeps each
 * Relation message's columns and uses their `parser` for every later row of that relation, so
 * replacing it right after the Relation message is parsed covers every row.
 */
export class TextPgoutputPlugin extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer) as Pgoutput.Message
    if (message.tag === 'relation') for (const column of message.columns) column.parser = asText
    return message
  }
}
