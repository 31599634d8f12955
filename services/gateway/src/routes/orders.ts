import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  CancelOrderBody,
  CreateOrderBody,
  IdempotencyKeyHeaders,
  ListOrdersQuery,
  OrderIdParams,
  OrderPageSchema,
  OrderSchema,
  UpdateOrderStatusBody
} from '@polyshop/api'
import { problemResponses } from '@polyshop/problem'
import type { onRequestAsyncHookHandler } from 'fastify'
import Type from 'typebox'
import type { OrderClient } from '../clients/order-client.js'
import { forwardedHeaders } from '../request-context.js'

export interface OrderRoutesOptions {
  orders: OrderClient
  /** onRequest hook: the order-placing limit, shared with the GraphQL mutation. */
  orderRateLimit: onRequestAsyncHookHandler
}

/** /api/v1/orders: REST in front of the gRPC OrderService, JSON translated both ways. */
export const orderRoutes: FastifyPluginAsyncTypebox<OrderRoutesOptions> = async (app, { orders, orderRateLimit }) => {
  const tagged = { tags: ['orders'], security: [{ bearer: [] }] }
  app.addHook('onRequest', app.authenticate)

  app.post(
    '/api/v1/orders',
    {
      onRequest: orderRateLimit,
      schema: {
        ...tagged,
        summary: 'Place an order (prices come from the catalog; stock is reserved all or nothing)',
        headers: IdempotencyKeyHeaders,
        body: CreateOrderBody,
        response: { 201: OrderSchema, ...problemResponses(400, 401, 404, 409, 429, 503, 504) }
      }
    },
    async (request, reply) => {
      const order = await orders.place(request.body, request.headers['idempotency-key'], forwardedHeaders(request))
      return reply.code(201).send(order)
    }
  )

  app.get(
    '/api/v1/orders',
    {
      schema: {
        ...tagged,
        summary: "The caller's orders, newest first (admins: everyone's with allUsers=true)",
        querystring: ListOrdersQuery,
        response: { 200: OrderPageSchema, ...problemResponses(400, 401, 403, 503, 504) }
      }
    },
    async (request) => orders.list(request.query, forwardedHeaders(request))
  )

  app.get(
    '/api/v1/orders/:id',
    {
      schema: {
        ...tagged,
        summary: 'One order',
        params: OrderIdParams,
        response: { 200: OrderSchema, ...problemResponses(400, 401, 404, 503, 504) }
      }
    },
    async (request) => orders.get(request.params.id, forwardedHeaders(request))
  )

  app.post(
    '/api/v1/orders/:id/cancel',
    {
      schema: {
        ...tagged,
        summary: 'Cancel an order that has not shipped (its stock is released)',
        params: OrderIdParams,
        body: Type.Union([CancelOrderBody, Type.Null()]),
        response: { 200: OrderSchema, ...problemResponses(400, 401, 404, 409, 503, 504) }
      }
    },
    async (request) => orders.cancel(request.params.id, request.body?.reason ?? '', forwardedHeaders(request))
  )

  app.patch(
    '/api/v1/orders/:id/status',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        ...tagged,
        summary: 'Move an order on: PAID, SHIPPED, DELIVERED (admin)',
        params: OrderIdParams,
        body: UpdateOrderStatusBody,
        response: { 200: OrderSchema, ...problemResponses(400, 401, 403, 404, 409, 503, 504) }
      }
    },
    async (request) => orders.updateStatus(request.params.id, request.body.status, forwardedHeaders(request))
  )
}
