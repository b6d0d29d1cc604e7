import type { FastifyError, FastifyInstance } from 'fastify'
import { DemoError } from '../errors.js'

/** Every error response has this shape. */
export interface ErrorBody {
  error: { code: string; message: string }
}

/** Fastify's own 4xx codes, renamed to what a client can act on. */
const FRAMEWORK_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof DemoError) {
      return reply.status(error.status).send(body(error.code, error.message))
    }
    if (error.validation !== undefined)
      return reply.status(400).send(body('INVALID_FIELD', validationMessage(error)))
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return reply
        .status(400)
        .send(body('MALFORMED_JSON', 'the body is not valid JSON (content-type says application/json)'))
    }
    const status = error.statusCode ?? 500
    if (status < 500) {
      return reply.status(status).send(body(FRAMEWORK_CODES[error.code] ?? 'BAD_REQUEST', error.message))
    }
    request.log.error({ err: error }, 'request failed')
    return reply.status(500).send(body('INTERNAL', 'the request failed; see the server log'))
  })
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(body('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  )
}

/** Patterns of ./schemas.ts, said in words. */
const PATTERNS: Record<string, string> = {
  '^[0-9]+$': 'must be a positive integer',
  '\\S': 'must not be blank',
  '^[a-z0-9][a-z0-9-]{0,29}$': 'must be 1-30 lowercase letters, digits or dashes',
}

/** The first problem, naming the field: "body/title must NOT have fewer than 1 characters". */
function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0]
  if (first === undefined) return error.message
  const where = `${error.validationContext ?? 'request'}${first.instancePath}`
  const params = first.params as Record<string, unknown>
  if (first.keyword === 'additionalProperties')
    return `${where} has an unknown field "${String(params.additionalProperty)}"`
  if (first.keyword === 'required') return `${where} is missing the field "${String(params.missingProperty)}"`
  if (first.keyword === 'pattern') return `${where} ${PATTERNS[String(params.pattern)] ?? first.message}`
  return `${where} ${first.message ?? 'is invalid'}`
}

export const body = (code: string, message: string): ErrorBody => ({ error: { code, message } })
