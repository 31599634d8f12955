import type { ForwardedHeaders, Product, RestClient } from '@polyshop/downstream'
import { ProblemError } from '@polyshop/problem'
import { errors } from '../errors.js'

export interface Recommendation {
  product: Product
  score: number
  reason: string
}

const PRODUCT_FIELDS = 'id name description category price { amount currency } stock images attributes { name value } createdAt updatedAt'
const RECOMMENDATIONS = `query Recommendations($userId: ID, $limit: Int!) {
  recommendations(userId: $userId, limit: $limit) { score reason product { ${PRODUCT_FIELDS} } }
}`
const SIMILAR = `query Similar($productId: ID!, $limit: Int!) {
  similarProducts(productId: $productId, limit: $limit) { score reason product { ${PRODUCT_FIELDS} } }
}`

interface GraphqlResponse<T> {
  data?: T | null
  errors?: Array<{ message: string; extensions?: { code?: string; status?: number } }>
}

/**
 * The recommendation service's GraphQL API, asked two fixed questions over kept-alive HTTP.
 * (Plain forwarding rather than federation: the gateway owns the public schema; the service's
 * answers already carry the product details, fetched there in one batch.)
 */
export class RecommendationClient {
  readonly #rest: RestClient
  readonly #path: string

  constructor(rest: RestClient, endpoint: string) {
    this.#rest = rest
    this.#path = new URL(endpoint).pathname
  }

  async forUser(userId: string | undefined, limit: number, headers: ForwardedHeaders): Promise<Recommendation[]> {
    const data = await this.#query<{ recommendations: Recommendation[] }>(RECOMMENDATIONS, { userId: userId ?? null, limit }, headers)
    return data.recommendations
  }

  async similarTo(productId: string, limit: number, headers: ForwardedHeaders): Promise<Recommendation[]> {
    const data = await this.#query<{ similarProducts: Recommendation[] }>(SIMILAR, { productId, limit }, headers)
    return data.similarProducts
  }

  async #query<T>(query: string, variables: Record<string, unknown>, headers: ForwardedHeaders): Promise<T> {
    const response = await this.#rest.request<GraphqlResponse<T>>({ method: 'POST', path: this.#path, body: { query, variables }, headers })
    const error = response.errors?.[0]
    if (error !== undefined) {
      const code = error.extensions?.code
      const status = error.extensions?.status
      // Refusals about the request (REC_INVALID_LIMIT, REC_FORBIDDEN, a catalog 400 …) reach the client as they were said.
      if (typeof code === 'string' && typeof status === 'number' && status < 500) {
        throw new ProblemError(code, { status, title: 'Request refused' }, error.message)
      }
      if (status === 503) throw errors.UPSTREAM_UNAVAILABLE('Recommendations are unavailable; retry shortly.')
      if (status === 504) throw errors.UPSTREAM_TIMEOUT('Recommendations did not come in time; retry shortly.')
      throw errors.UPSTREAM_FAILED('The recommendation service failed to answer.')
    }
    if (response.data === undefined || response.data === null) throw errors.UPSTREAM_FAILED('The recommendation service failed to answer.')
    return response.data
  }
}
