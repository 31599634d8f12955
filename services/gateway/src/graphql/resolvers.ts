import type { AuthPayloadSchema, UserSchema } from '@polyshop/api'
import type { Product, ProductCatalogClient, ProductUpdate, RestClient } from '@polyshop/downstream'
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

interface UpdateProductInput {
  name?: string | null
  description?: string | null
  category?: string | null
  price?: { amount: number; currency: string } | null
  stock?: number | null
  images?: string[] | null
}

type OrderStatusStep = 'PAID' | 'SHIPPED' | 'DELIVERED'

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
      orders: async (
        _: unknown,
        args: { first?: number | null; after?: string | null; allUsers?: boolean | null },
        { gateway }: Context
      ) => {
        await gateway.identity()
        return o.orders.list({ limit: given(args.first), cursor: given(args.after), allUsers: args.allUsers === true }, gateway.forwarded)
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
      refresh: async (_: unknown, args: { refreshToken: string }, { gateway }: Context) => {
        await gateway.checkRateLimit(o.authRateLimit)
        return o.users.request<AuthPayload>({ method: 'POST', path: '/api/v1/auth/refresh', body: args, headers: gateway.forwarded })
      },
      logout: async (_: unknown, args: { refreshToken?: string | null }, { gateway }: Context) => {
        await gateway.optionalIdentity()
        await o.users.request({
          method: 'POST',
          path: '/api/v1/auth/logout',
          body: args.refreshToken === null || args.refreshToken === undefined ? {} : { refreshToken: args.refreshToken },
          headers: gateway.forwarded
        })
        return true
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
      },
      // The product and order services decide who is an admin (from the forwarded token); the
      // gateway only makes sure there is a caller, so a guest hears "sign in" rather than "forbidden".
      updateProduct: async (_: unknown, args: { id: string; input: UpdateProductInput }, { gateway }: Context) => {
        await gateway.identity()
        const body = Object.fromEntries(Object.entries(args.input).filter(([, value]) => value !== null && value !== undefined))
        return o.catalog.update(args.id, body as ProductUpdate, gateway.forwarded)
      },
      updateOrderStatus: async (_: unknown, args: { id: string; status: OrderStatusStep }, { gateway }: Context) => {
        await gateway.identity()
        return o.orders.updateStatus(args.id, args.status, gateway.forwarded)
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
