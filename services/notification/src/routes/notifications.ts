import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ProblemSchema } from '@polyshop/problem'
import type { Filter } from 'mongodb'
import Type from 'typebox'
import type { NotificationDocument, Notifier } from '../domain/notifier.js'

const Query = Type.Object(
  {
    recipient: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    type: Type.Optional(Type.String({ pattern: '^shop\\.[a-z_.]+\\.v[0-9]+$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 }))
  },
  { additionalProperties: false }
)

const Notification = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String(),
    type: Type.String(),
    channel: Type.String(),
    recipient: Type.String(),
    subject: Type.String(),
    state: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
  },
  { additionalProperties: false }
)

/** GET /notifications?recipient=&type= (admin): what was sent to whom, newest first. */
export const notificationRoutes: FastifyPluginAsyncTypebox<{ notifier: Notifier }> = async (app, { notifier }) => {
  app.get(
    '/notifications',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        querystring: Query,
        response: { 200: Type.Object({ items: Type.Array(Notification) }), 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema }
      }
    },
    async (request) => {
      const filter: Filter<NotificationDocument> = {}
      if (request.query.recipient !== undefined) filter.recipient = request.query.recipient
      if (request.query.type !== undefined) filter.eventType = request.query.type
      const found = await notifier.notifications
        .find(filter)
        .sort({ createdAt: -1 })
        .limit(request.query.limit ?? 50)
        .toArray()
      return {
        items: found.map((n) => ({
          id: n._id,
          eventId: n.eventId,
          type: n.eventType,
          channel: n.channel,
          recipient: n.recipient,
          subject: n.subject,
          state: n.state,
          createdAt: n.createdAt.toISOString(),
          sentAt: n.sentAt?.toISOString() ?? null
        }))
      }
    }
  )
}
