import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AuthPayloadSchema, LoginBody, LogoutBody, RefreshBody, RegisterBody } from '@polyshop/api'
import { problemResponses } from '@polyshop/problem'
import Type from 'typebox'
import type { Accounts } from '../domain/accounts.js'

export interface AuthRoutesOptions {
  accounts: Accounts
  /** Per client IP, per minute, on each of these routes. */
  rateLimitPerMinute: number
}

/** POST /api/v1/auth/{register,login,refresh,logout} */
export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { accounts, rateLimitPerMinute }) => {
  const rateLimit = { max: rateLimitPerMinute, timeWindow: '1 minute' }

  app.post(
    '/register',
    {
      config: { rateLimit },
      schema: { body: RegisterBody, response: { 201: AuthPayloadSchema, ...problemResponses(400, 409, 429, 503) } }
    },
    async (request, reply) => reply.code(201).send(await accounts.register(request.body, request.headers.traceparent as string | undefined))
  )

  app.post(
    '/login',
    {
      config: { rateLimit },
      schema: { body: LoginBody, response: { 200: AuthPayloadSchema, ...problemResponses(400, 401, 403, 429, 503) } }
    },
    async (request) => accounts.login(request.body.email, request.body.password, request.ip)
  )

  app.post(
    '/refresh',
    { config: { rateLimit }, schema: { body: RefreshBody, response: { 200: AuthPayloadSchema, ...problemResponses(400, 401, 429) } } },
    async (request) => accounts.refresh(request.body.refreshToken)
  )

  app.post(
    '/logout',
    {
      onRequest: app.authenticate,
      schema: { body: Type.Union([LogoutBody, Type.Null()]), response: { 204: Type.Null(), ...problemResponses(400, 401) } }
    },
    async (request, reply) => {
      await accounts.logout(request.identity?.userId ?? '', request.body?.refreshToken)
      return reply.code(204).send(null)
    }
  )
}
