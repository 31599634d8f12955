import type { AuthPayloadSchema, UserSchema } from '@polyshop/api'
import type { Product, ProductCatalogClient, RestClient } from '@polyshop/downstream'
import { productResolvers } from '@polyshop/graphql'
import type { Static } from 'typebox'
import type { OrderClient, PlaceOrderInput } from '../clients/order-client.js'
import type { RecommendationClient } from '../clients/recommendation-client.js'
import type { GraphqlRequest, RateLimitCheck } from './context.js'

export interface GatewayResolverOptions {
  users: RestClient
  catalog: ProductCatalogClient
  orders: OrderClient
  recommendations: RecommendationClient
  authRateLimit: RateLimitCheck
  orderRateLimit: RateLimitCheck
}

interface Context {
  gateway: GraphqlRequest
}

type User = Static<typeof UserSchema>
type AuthPayload = Static<typeof AuthPayloadSchema>

const SORTS = { RELEVANCE: 'relevance', NEWEST: 'newest', PRICE_ASC: 'price_asc', PRICE_DESC: 'price_desc', NAME: 'name' } as const

interface ProductFilter {
  q?: string | null
  category?: string | null
  minPrice?: number | null
  maxPrice?: number | null
  sort?: keyof typeof SORTS | null
}

/** GraphQL null and absent are the same to the REST services: leave the parameter out. */
function given<T>(value: T | null | undefined): T | undefined {
  return value ?? undefined
}

/** The gateway's resolvers: the same clients as the REST routes, so both say the same thing. */
export function gatewayResolvers(o: GatewayResolverOptions) {
  return {
    ...productResolvers,
    Query: {
      me: async (_: unknown, __: unknown, { gateway }: Context) => {
        await gateway.identity()
        return o.users.request<User>({ path: '/api/v1/users/me', headers: gateway.forwarded })
      },
      products: (
        _: unknown,
        args: { filter?: ProductFilter | null; first?: number | null; after?: string | null },
        { gateway }: Context
      ) => {
        const filter = args.filter ?? {}
        return o.catalog.search(
          {
            q: given(filter.q),
            category: given(filter.category),
            minPrice: given(filter.minPrice),
            maxPrice: given(filter.maxPrice),
            sort: filter.sort === undefined || filter.sort === null ? undefined : SORTS[filter.sort],
            limit: given(args.first),
            cursor: given(args.after)
          },
          gateway.forwarded
        )
      },
      product: async (_: unknown, args: { id: string }, { gateway }: Context) =>
        (await o.catalog.getMany([args.id], gateway.forwarded)).get(args.id) ?? null,
      categories: (_: unknown, __: unknown, { gateway }: Context) => o.catalog.categories(gateway.forwarded),
      orders: async (_: unknown, args: { first?: number | null; after?: string | null }, { gateway }: Context) => {
        await gateway.identity()
        return o.orders.list({ limit: given(args.first), cursor: given(args.after) }, gateway.forwarded)
      },
      order: async (_: unknown, args: { id: string }, { gateway }: Context) => {
        await gateway.identity()
        return o.orders.get(args.id, gateway.forwarded)
      },
      recommendations: async (_: unknown, args: { limit?: number | null }, { gateway }: Context) => {
        const identity = await gateway.optionalIdentity()
        return o.recommendations.forUser(identity?.userId, args.limit ?? 10, gateway.forwarded)
      },
      similarProducts: (_: unknown, args: { productId: string; limit?: number | null }, { gateway }: Context) =>
        o.recommendations.similarTo(args.productId, args.limit ?? 10, gateway.forwarded)
    },
    Mutation: {
      register: async (
        _: unknown,
        args: { input: { email: string; password: string; name: string; phone?: string | null } },
        { gateway }: Context
      ) => {
        await gateway.checkRateLimit(o.authRateLimit)
        const { phone, ...rest } = args.input
        return o.users.request<AuthPayload>({
          method: 'POST',
          path: '/api/v1/auth/register',
          body: { ...rest, ...(phone === null || phone === undefined ? {} : { phone }) },
          headers: gateway.forwarded
        })
      },
      login: async (_: unknown, args: { email: string; password: string }, { gateway }: Context) => {
        await gateway.checkRateLimit(o.authRateLimit)
        return o.users.request<AuthPayload>({ method: 'POST', path: '/api/v1/auth/login', body: args, headers: gateway.forwarded })
      },
      placeOrder: async (_: unknown, args: { input: PlaceOrderInput; idempotencyKey: string }, { gateway }: Context) => {
        await gateway.identity()
        await gateway.checkRateLimit(o.orderRateLimit)
        const { line2, ...address } = args.input.shippingAddress
        return o.orders.place(
          { items: args.input.items, shippingAddress: { ...address, ...(line2 === null || line2 === undefined ? {} : { line2 }) } },
          args.idempotencyKey,
          gateway.forwarded
        )
      },
      cancelOrder: async (_: unknown, args: { id: string; reason?: string | null }, { gateway }: Context) => {
        await gateway.identity()
        return o.orders.cancel(args.id, args.reason ?? '', gateway.forwarded)
      }
    }
  }
}

/** OrderItem.product: every item of a response looked up in one catalog call (mercurius loaders batch them). */
export function gatewayLoaders(catalog: ProductCatalogClient) {
  return {
    OrderItem: {
      product: async (queries: Array<{ obj: { productId: string } }>, { gateway }: Context): Promise<Array<Product | null>> => {
        const ids = queries.map((query) => query.obj.productId)
        const products = await catalog.getMany(ids, gateway.forwarded)
        return ids.map((id) => products.get(id) ?? null)
      }
    }
  }
}
