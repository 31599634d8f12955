import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type InvalidParam, type ProblemDetails, ProblemError, problemType } from './problem.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export interface ProblemHandlingOptions {
  /** The service's error code prefix (USR, PRD, …), for the codes this handler makes up. */
  prefix: string
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
}

function titleFor(status: number): string {
  return STATUS_TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error')
}

function invalidParams(error: FastifyError): InvalidParam[] {
  const part = error.validationContext ?? 'body'
  return (error.validation ?? []).map((issue) => {
    const missing = (issue.params as { missingProperty?: string }).missingProperty
    const extra = (issue.params as { additionalProperty?: string }).additionalProperty
    const pointer =
      missing !== undefined
        ? `${issue.instancePath}/${missing}`
        : extra !== undefined
          ? `${issue.instancePath}/${extra}`
          : issue.instancePath
    const detail = extra !== undefined ? `unknown property "${extra}"` : (issue.message ?? 'is invalid')
    return { pointer, in: part, detail }
  })
}

/** Turns any error a route throws into problem+json; 5xx never leak their message. */
export function toProblem(error: FastifyError | ProblemError | Error, prefix: string, instance: string): ProblemDetails {
  if (error instanceof ProblemError) return error.toProblem(instance)
  const fastifyError = error as FastifyError
  if (fastifyError.validation !== undefined) {
    const code = `${prefix}_VALIDATION`
    return {
      type: problemType(code),
      title: 'Invalid request',
      status: 400,
      detail: `The request ${fastifyError.validationContext ?? 'body'} is not valid.`,
      instance,
      code,
      errors: invalidParams(fastifyError)
    }
  }
  const status =
    typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 600
      ? fastifyError.statusCode
      : 500
  if (status >= 500) {
    const code = `${prefix}_INTERNAL`
    return {
      type: problemType(code),
      title: titleFor(status),
      status,
      detail: 'The server could not complete the request.',
      instance,
      code
    }
  }
  // 4xx raised by Fastify itself or its plugins (bad JSON, body too large, rate limit …)
  // carry messages written for clients. Any other error's message may quote an upstream
  // reply or a library's internals, so it stays in the log.
  if (fastifyError.code?.startsWith('FST_ERR_') === true) {
    const code = `${prefix}_${fastifyError.code.slice('FST_ERR_'.length)}`
    return { type: problemType(code), title: titleFor(status), status, detail: fastifyError.message, instance, code }
  }
  const code = `${prefix}_${status === 429 ? 'RATE_LIMITED' : 'REQUEST_REFUSED'}`
  return {
    type: problemType(code),
    title: titleFor(status),
    status,
    detail: `The request was refused (${titleFor(status)}).`,
    instance,
    code
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/**
 * One error handler and one not-found handler for a whole service (STYLE.md §4):
 * everything leaves as RFC 9457 problem+json.
 */
export const problemHandling = fp<ProblemHandlingOptions>(
  async (app: FastifyInstance, options) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      // The path only: a query string may carry tokens or personal data.
      const problem = toProblem(error, options.prefix, pathOf(request.url))
      // A 503 the service chose to shed load with (it says when to retry) is not a failure: no
      // stack, one line — a flood of them must not flood the logs.
      const chosen = error instanceof ProblemError && problem.status === 503 && typeof problem.retryAfter === 'number'
      if (problem.status >= 500 && !chosen) request.log.error({ err: error }, 'request failed')
      else request.log[chosen ? 'warn' : 'info']({ code: problem.code, status: problem.status }, 'request refused')
      if (
        (problem.status === 429 || problem.status === 503) &&
        reply.getHeader('retry-after') === undefined &&
        typeof problem.retryAfter === 'number'
      ) {
        reply.header('retry-after', String(problem.retryAfter))
      }
      return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem)
    })
    app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
      const code = `${options.prefix}_ROUTE_NOT_FOUND`
      return reply
        .code(404)
        .type(PROBLEM_CONTENT_TYPE)
        .send({
          type: problemType(code),
          title: 'Not Found',
          status: 404,
          detail: `No route ${request.method} ${pathOf(request.url)}.`,
          instance: pathOf(request.url),
          code
        } satisfies ProblemDetails)
    })
  },
  { name: '@polyshop/problem', fastify: '5.x' }
)
