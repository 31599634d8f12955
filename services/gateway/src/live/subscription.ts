import { publicGraphqlError } from '@polyshop/graphql'
import type { FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { OrderClient } from '../clients/order-client.js'
import { errors } from '../errors.js'
import { forwardedHeaders } from '../request-context.js'
import { CLOSE, type LiveConnection, type LiveConnections, SubscriptionLimitError } from './connections.js'
import type { OrderUpdate, OrderUpdateFilter, OrderUpdateHub } from './order-updates.js'

export interface LiveOrderUpdatesOptions {
  hub: OrderUpdateHub
  connections: LiveConnections
  orders: OrderClient
  logger: Logger
}

/** What a subscription's resolvers get (see graphqlWsHandler): the connection and its upgrade request. */
interface SubscriptionContext {
  request: FastifyRequest
  live?: LiveConnection | undefined
}

/**
 * `Subscription.orderUpdated(id)`: with an id, that order (the order service decides whether
 * the caller may see it, exactly as for `order(id)`); without, the caller's orders, or every
 * order for an admin. No polling: the updates come from Kafka through the hub.
 */
export function orderUpdatedSubscription(o: LiveOrderUpdatesOptions) {
  return {
    subscribe: async (_root: unknown, args: { id?: string | null }, context: SubscriptionContext) => {
      try {
        const connection = context.live
        const identity = connection?.identity
        if (connection === undefined || identity === undefined)
          throw errors.UNAUTHENTICATED('Sign in: connection_init needs the access token.')
        let filter: OrderUpdateFilter
        if (args.id !== undefined && args.id !== null) {
          // NOT_FOUND for an order that is not the caller's, as the query says.
          await o.orders.get(args.id, { ...forwardedHeaders(context.request), authorization: `Bearer ${identity.token}` })
          filter = { orderId: args.id }
        } else {
          filter = identity.roles.includes('admin') ? 'all' : { userId: identity.userId }
        }
        try {
          o.connections.addSubscription(connection)
        } catch (error) {
          if (error instanceof SubscriptionLimitError) throw errors.TOO_MANY_SUBSCRIPTIONS(error.message)
          throw error
        }
        return o.hub.subscribe(
          filter,
          () => connection.drop(CLOSE.TRY_AGAIN_LATER, 'Fell behind the order updates; reconnect and reload'),
          () => o.connections.removeSubscription(connection)
        )
      } catch (error) {
        throw publicGraphqlError(error, 'orderUpdated', o.logger)
      }
    },
    resolve: (update: OrderUpdate) => update
  }
}
