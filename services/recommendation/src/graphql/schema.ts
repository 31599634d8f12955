import { productResolvers, productTypeDefs } from '@polyshop/graphql'
import type { Recommender } from '../domain/recommender.js'
import type { Caller } from './caller.js'

/**
 * The service's own schema. The gateway forwards to it (plain GraphQL over HTTP, not federation:
 * the gateway owns the public schema and asks this service exactly two questions).
 */
export const typeDefs = /* GraphQL */ `
  ${productTypeDefs}

  type Query {
    "For userId (the signed-in user's own id, or any as admin): personalised first. Without userId: popular now."
    recommendations(userId: ID, limit: Int! = 10): [Recommendation!]!
    "Bought together with the product, then popular in its category."
    similarProducts(productId: ID!, limit: Int! = 10): [Recommendation!]!
  }
`

export interface GraphqlContext {
  caller: Caller
}

export function resolvers(recommender: Recommender) {
  return {
    ...productResolvers,
    Query: {
      recommendations: async (_: unknown, args: { userId?: string | null; limit: number }, context: GraphqlContext) => {
        const userId = args.userId ?? undefined
        if (userId !== undefined) await context.caller.requireSelfOrAdmin(userId)
        return recommender.forUser(userId, args.limit, context.caller.forwarded)
      },
      similarProducts: (_: unknown, args: { productId: string; limit: number }, context: GraphqlContext) =>
        recommender.similarTo(args.productId, args.limit, context.caller.forwarded)
    }
  }
}
