import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DisableBody, ListUsersQuery, UpdateMeBody, UserIdParams, UserPageSchema, UserSchema } from '@polyshop/api'
import { problemResponses } from '@polyshop/problem'
import { type Accounts, toPublicUser } from '../domain/accounts.js'
import { errors } from '../errors.js'
import type { UserRepository } from '../repositories/users.js'

export interface UserRoutesOptions {
  accounts: Accounts
  users: UserRepository
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url')
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string]
    const date = new Date(createdAt)
    if (typeof id !== 'string' || Number.isNaN(date.getTime())) throw new Error('bad cursor')
    return { createdAt: date, id }
  } catch {
    throw errors.INVALID_CURSOR('The cursor is not one this service issued.')
  }
}

/** /api/v1/users: the caller's own profile, and the admin's view of every account. */
export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, { accounts, users }) => {
  app.get(
    '/me',
    { onRequest: app.authenticate, schema: { response: { 200: UserSchema, ...problemResponses(401, 404) } } },
    async (request) => {
      const user = await users.findById(request.identity?.userId ?? '')
      if (user === null) throw errors.USER_NOT_FOUND('The signed-in user no longer exists.')
      return toPublicUser(user)
    }
  )

  app.patch(
    '/me',
    { onRequest: app.authenticate, schema: { body: UpdateMeBody, response: { 200: UserSchema, ...problemResponses(400, 401, 404) } } },
    async (request) => {
      const { name, phone } = request.body
      // The notification service keeps contact details: the change reaches it as an event.
      const user = await users.updateProfile(
        request.identity?.userId ?? '',
        { ...(name === undefined ? {} : { name: name.trim() }), ...(phone === undefined ? {} : { phone }) },
        request.headers.traceparent as string | undefined
      )
      if (user === null) throw errors.USER_NOT_FOUND('The signed-in user no longer exists.')
      return toPublicUser(user)
    }
  )

  app.get(
    '/',
    {
      onRequest: app.requireRole('admin'),
      schema: { querystring: ListUsersQuery, response: { 200: UserPageSchema, ...problemResponses(400, 401, 403) } }
    },
    async (request) => {
      const limit = request.query.limit ?? 20
      const after = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor)
      const page = await users.list(limit + 1, after)
      const items = page.slice(0, limit)
      const last = items.at(-1)
      return {
        items: items.map(toPublicUser),
        nextCursor: page.length > limit && last !== undefined ? encodeCursor(last.createdAt, last._id) : null
      }
    }
  )

  app.get(
    '/:id',
    {
      onRequest: app.requireRole('admin'),
      schema: { params: UserIdParams, response: { 200: UserSchema, ...problemResponses(400, 401, 403, 404) } }
    },
    async (request) => {
      const user = await users.findById(request.params.id)
      if (user === null) throw errors.USER_NOT_FOUND()
      return toPublicUser(user)
    }
  )

  app.post(
    '/:id/disabled',
    {
      onRequest: app.requireRole('admin'),
      schema: { params: UserIdParams, body: DisableBody, response: { 200: UserSchema, ...problemResponses(400, 401, 403, 404, 409) } }
    },
    async (request) => {
      // An admin locking themselves out (perhaps the only admin) is never what was meant.
      if (request.body.disabled && request.params.id === request.identity?.userId) {
        throw errors.CANNOT_DISABLE_SELF('You cannot disable your own account; ask another admin.')
      }
      return toPublicUser(await accounts.setDisabled(request.params.id, request.body.disabled))
    }
  )
}
