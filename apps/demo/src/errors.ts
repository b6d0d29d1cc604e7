/**
 * Errors the HTTP layer turns into responses. Each has a stable `code` (what clients switch on)
 * and the HTTP status it maps to; the message is written for a person.
 */
export class DemoError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

export class NotFoundError extends DemoError {
  constructor(what: string, id: number | string) {
    super('NOT_FOUND', 404, `${what} ${id} does not exist`)
  }
}

/** A field that is well-formed JSON but not acceptable (unknown reference, bad value). */
export class InvalidFieldError extends DemoError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('INVALID_FIELD', 400, `${field} ${message}`)
  }
}

export class ConflictError extends DemoError {
  constructor(message: string) {
    super('CONFLICT', 409, message)
  }
}

/** Startup configuration that cannot work (bad DATABASE_URL, CACHE_URL, PORT, …). */
export class ConfigError extends DemoError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super('INVALID_CONFIG', 500, `${variable}: ${message}`)
  }
}
