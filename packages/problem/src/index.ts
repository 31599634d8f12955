export { PROBLEM_CONTENT_TYPE, type ProblemHandlingOptions, problemHandling } from './fastify.js'
export { defineProblems, type InvalidParam, type ProblemDefinition, type ProblemDetails, ProblemError, problemType } from './problem.js'
export { ProblemResponse, ProblemSchema, problemResponses } from './schema.js'
