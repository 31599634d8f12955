import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  AuthPayloadSchema,
  DisableBody,
  ListUsersQuery,
  LoginBody,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  UpdateMeBody,
  UserIdParams,
  UserPageSchema,
  UserSchema
} from '@polyshop/api'
import { problemResponses } from '@polyshop/problem'
import type { onRequestAsyncHookHandler } from 'fastify'
import Type from 'typebox'
import { forwardTo } from '../plugins/forward.js'

export interface UserRoutesOptions {
  userServiceUrl: string
  timeoutMs: number
  /** onRequest hook: the register/login/refresh limit, shared with the GraphQL mutations. */
  authRateLimit: onRequestAsyncHookHandler
}

/**
 * /api/v1/auth and /api/v1/users, forwarded to the user service. The gateway checks the request
 * against the same schemas first (so bad input never travels) and the access token where one is
 * needed; the user service checks both again.
 */
export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, options) => {
  const forward = await forwardTo(app, { baseUrl: options.userServiceUrl, service: 'user', timeoutMs: options.timeoutMs })
  const auth = { tags: ['auth'] }
  const users = { tags: ['users'] }
  const bearer = { security: [{ bearer: [] }] }

  app.post(
    '/api/v1/auth/register',
    {
      onRequest: options.authRateLimit,
      schema: {
        ...auth,
        summary: 'Create an account',
        body: RegisterBody,
        response: { 201: AuthPayloadSchema, ...problemResponses(400, 409, 429, 503) }
      }
    },
    forward
  )
  app.post(
    '/api/v1/auth/login',
    {
      onRequest: options.authRateLimit,
      schema: {
        ...auth,
        summary: 'Sign in',
        body: LoginBody,
        response: { 200: AuthPayloadSchema, ...problemResponses(400, 401, 403, 429, 503) }
      }
    },
    forward
  )
  app.post(
    '/api/v1/auth/refresh',
    {
      onRequest: options.authRateLimit,
      schema: {
        ...auth,
        summary: 'Trade a refresh token for a new pair (the old one stops working)',
        body: RefreshBody,
        response: { 200: AuthPayloadSchema, ...problemResponses(400, 401, 429) }
      }
    },
    forward
  )
  app.post(
    '/api/v1/auth/logout',
    {
      onRequest: app.authenticate,
      schema: {
        ...auth,
        ...bearer,
        summary: 'Sign out: revokes the refresh token (or all of the caller’s)',
        body: Type.Union([LogoutBody, Type.Null()]),
        response: { 204: Type.Null(), ...problemResponses(400, 401) }
      }
    },
    forward
  )

  app.get(
    '/api/v1/users/me',
    {
      onRequest: app.authenticate,
      schema: { ...users, ...bearer, summary: 'The signed-in user', response: { 200: UserSchema, ...problemResponses(401, 404) } }
    },
    forward
  )
  app.patch(
    '/api/v1/users/me',
    {
      onRequest: app.authenticate,
      schema: {
        ...users,
        ...bearer,
        summary: 'Change name or phone',
        body: UpdateMeBody,
        response: { 200: UserSchema, ...problemResponses(400, 401, 404) }
      }
    },
    forward
  )
  app.get(
    '/api/v1/users',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        ...users,
        ...bearer,
        summary: 'Every account (admin)',
        querystring: ListUsersQuery,
        response: { 200: UserPageSchema, ...problemResponses(400, 401, 403) }
      }
    },
    forward
  )
  app.get(
    '/api/v1/users/:id',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        ...users,
        ...bearer,
        summary: 'One account (admin)',
        params: UserIdParams,
        response: { 200: UserSchema, ...problemResponses(400, 401, 403, 404) }
      }
    },
    forward
  )
  app.post(
    '/api/v1/users/:id/disabled',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        ...users,
        ...bearer,
        summary: 'Disable or re-enable an account (admin; not your own: 409)',
        params: UserIdParams,
        body: DisableBody,
        response: { 200: UserSchema, ...problemResponses(400, 401, 403, 404, 409) }
      }
    },
    forward
  )
}
