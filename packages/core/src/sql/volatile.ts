import { isPunct, isWord, type SqlDialect, type Token } from './tokenize.js'

/**
 * Functions whose result a tag cannot invalidate: it changes with the clock, is random, reads or
 * advances a sequence or session state, or the call itself has a side effect (locks, sleeps,
 * notifications). A cached result of a statement calling one of them is wrong from the next call
 * on (`expires_at > now()` keeps returning expired rows; `nextval` hands out one id twice).
 * One list for every dialect: a name that is a plain function elsewhere only costs a cache miss.
 */
const VOLATILE_FUNCTIONS = new Set([
  // PostgreSQL: sequences, randomness, the clock, transaction ids, locks, sleeps, side effects
  'nextval',
  'setval',
  'currval',
  'lastval',
  'random',
  'random_normal',
  'setseed',
  'gen_random_uuid',
  'gen_random_bytes',
  'uuidv4',
  'uuidv7',
  'now',
  'clock_timestamp',
  'statement_timestamp',
  'transaction_timestamp',
  'timeofday',
  'pg_current_xact_id',
  'pg_current_xact_id_if_assigned',
  'pg_sleep',
  'pg_sleep_for',
  'pg_sleep_until',
  'pg_notify',
  'set_config',
  'pg_backend_pid',
  'pg_cancel_backend',
  'pg_terminate_backend',
  'pg_reload_conf',
  'pg_switch_wal',
  'pg_logical_emit_message',
  'dblink_exec',
  // MySQL / MariaDB
  'rand',
  'uuid',
  'uuid_short',
  'sys_guid',
  'random_bytes',
  'sysdate',
  'curdate',
  'curtime',
  'current_timestamp',
  'current_date',
  'current_time',
  'localtimestamp',
  'localtime',
  'utc_timestamp',
  'utc_date',
  'utc_time',
  'unix_timestamp',
  'last_insert_id',
  'row_count',
  'found_rows',
  'connection_id',
  'get_lock',
  'release_lock',
  'release_all_locks',
  'is_free_lock',
  'is_used_lock',
  'sleep',
  'benchmark',
  'master_pos_wait',
  'source_pos_wait',
  'next_value',
  'previous_value',
  // SQLite
  'randomblob',
  'changes',
  'total_changes',
  'last_insert_rowid',
  'load_extension',
])

/**
 * Name prefixes of volatile function families (`uuid_generate_v4`, `pg_try_advisory_lock`, …);
 * `lo_` is PostgreSQL's large objects, whose functions create, write, import and delete them.
 */
const VOLATILE_PREFIXES = [
  'uuid_generate_',
  'pg_advisory_',
  'pg_try_advisory_',
  'txid_',
  'pg_stat_reset',
  'lo_',
]

/** Keywords that read the clock without parentheses (SQL standard, all three dialects). */
const CLOCK_KEYWORDS = new Set([
  'CURRENT_TIMESTAMP',
  'CURRENT_DATE',
  'CURRENT_TIME',
  'LOCALTIMESTAMP',
  'LOCALTIME',
  'UTC_TIMESTAMP',
  'UTC_DATE',
  'UTC_TIME',
])

/**
 * String literals a database turns into the current time: PostgreSQL casts 'now', 'today',
 * 'tomorrow' and 'yesterday' (also implicitly, in `expires_at > 'now'`); SQLite's date functions
 * take 'now' as their time value.
 */
const CLOCK_STRINGS = new Set(['now', 'today', 'tomorrow', 'yesterday'])

/** SQLite date functions: without a time value, or with a bound one (which may be 'now'), they read the clock. */
const SQLITE_DATE_FUNCTIONS = new Set([
  'date',
  'time',
  'datetime',
  'julianday',
  'unixepoch',
  'strftime',
  'timediff',
])

/**
 * The volatile calls, clock keywords and clock strings in one statement's tokens, lower-cased.
 * Works on tokens, so a name inside a string, a comment or a quoted identifier never counts
 * (except the clock strings above, which are the one place where a string IS the clock).
 * `extra` names user-defined functions to treat the same way.
 */
export function volatileCalls(
  tokens: readonly Token[],
  dialect: SqlDialect,
  extra: ReadonlySet<string> = NONE,
): string[] {
  const found = new Set<string>()
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    const next = tokens[i + 1]
    if (token.kind === 'string') {
      if (dialect !== 'mysql' && CLOCK_STRINGS.has(token.text.trim().toLowerCase())) {
        found.add(`'${token.text.trim().toLowerCase()}'`)
      }
      continue
    }
    if (dialect === 'mysql' && token.kind === 'punct' && token.text === ':' && isPunct(next, '=')) {
      found.add(':=') // assigns a user variable: a side effect, and later reads see it
      continue
    }
    if (token.kind !== 'word') continue
    const previous = tokens[i - 1]
    // `t.current_date` is a column of t, not the keyword.
    const qualified = previous?.kind === 'punct' && previous.text === '.'
    const call = next?.kind === 'punct' && next.text === '('
    const name = token.text.toLowerCase()
    if (call && (VOLATILE_FUNCTIONS.has(name) || extra.has(name) || hasVolatilePrefix(name))) {
      found.add(name)
    } else if (!qualified && CLOCK_KEYWORDS.has(token.upper)) {
      found.add(name)
    } else if (isSequenceExpression(tokens, i)) {
      found.add(`${name} value for`)
    } else if (
      call &&
      dialect === 'sqlite' &&
      SQLITE_DATE_FUNCTIONS.has(name) &&
      readsSqliteClock(tokens, i)
    ) {
      found.add(name)
    }
  }
  return [...found]
}

const NONE: ReadonlySet<string> = new Set()

function hasVolatilePrefix(name: string): boolean {
  return VOLATILE_PREFIXES.some((prefix) => name.startsWith(prefix))
}

/** MariaDB's `NEXT VALUE FOR seq` / `PREVIOUS VALUE FOR seq`. */
function isSequenceExpression(tokens: readonly Token[], at: number): boolean {
  return (
    isWord(tokens[at], 'NEXT', 'PREVIOUS') && isWord(tokens[at + 1], 'VALUE') && isWord(tokens[at + 2], 'FOR')
  )
}

/**
 * A SQLite date function call at `at` (its name; "(" follows) reads the clock when its time value
 * is missing (`date()`, `strftime('%s')`) or bound (`datetime(?)` may be bound to 'now'). A
 * literal 'now' is caught as a clock string.
 */
function readsSqliteClock(tokens: readonly Token[], at: number): boolean {
  const name = (tokens[at] as { text: string }).text.toLowerCase()
  const timeValueIndex = name === 'strftime' ? 1 : 0
  let depth = 0
  let argument = 0
  let empty = true
  for (let i = at + 2; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.kind === 'punct' && token.text === '(') depth++
    else if (token.kind === 'punct' && token.text === ')') {
      if (depth === 0) break
      depth--
    } else if (depth === 0 && token.kind === 'punct' && token.text === ',') argument++
    else {
      empty = false
      if (token.kind === 'param') return true
    }
  }
  const argumentCount = empty ? 0 : argument + 1
  return argumentCount <= timeValueIndex
}
