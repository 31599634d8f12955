import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  CategorySchema,
  CreateProductBody,
  ProductIdParams,
  ProductPageSchema,
  ProductQuery,
  ProductSchema,
  UpdateProductBody
} from '@polyshop/api'
import { problemResponses } from '@polyshop/problem'
import Type from 'typebox'
import { forwardTo } from '../plugins/forward.js'

export interface ProductRoutesOptions {
  productServiceUrl: string
  timeoutMs: number
}

/** /api/v1/products, /api/v1/categories and the product pictures, forwarded to the product service. */
export const productRoutes: FastifyPluginAsyncTypebox<ProductRoutesOptions> = async (app, options) => {
  const forward = await forwardTo(app, { baseUrl: options.productServiceUrl, service: 'product', timeoutMs: options.timeoutMs })
  const products = { tags: ['products'] }
  const admin = { tags: ['products'], security: [{ bearer: [] }] }

  // Open to guests; a token that is sent is checked all the same (a bad one is a 401, as in GraphQL).
  app.get(
    '/api/v1/products',
    {
      onRequest: app.identify,
      schema: {
        ...products,
        summary: 'Search and browse the catalog (keyset pages: pass nextCursor back as cursor)',
        querystring: ProductQuery,
        response: { 200: ProductPageSchema, ...problemResponses(400, 401) }
      }
    },
    forward
  )
  app.get(
    '/api/v1/products/:id',
    {
      onRequest: app.identify,
      schema: {
        ...products,
        summary: 'One product',
        params: ProductIdParams,
        response: { 200: ProductSchema, ...problemResponses(400, 401, 404) }
      }
    },
    forward
  )
  app.get(
    '/api/v1/categories',
    { schema: { ...products, summary: 'Every category with its product count', response: { 200: Type.Array(CategorySchema) } } },
    forward
  )
  app.post(
    '/api/v1/products',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        ...admin,
        summary: 'Add a product (admin)',
        body: CreateProductBody,
        response: { 201: ProductSchema, ...problemResponses(400, 401, 403) }
      }
    },
    forward
  )
  app.patch(
    '/api/v1/products/:id',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        ...admin,
        summary: 'Change a product, its price or stock (admin)',
        params: ProductIdParams,
        body: UpdateProductBody,
        response: { 200: ProductSchema, ...problemResponses(400, 401, 403, 404, 409) }
      }
    },
    forward
  )
  app.delete(
    '/api/v1/products/:id',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        ...admin,
        summary: 'Remove a product (admin)',
        params: ProductIdParams,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) }
      }
    },
    forward
  )
  app.get(
    '/images/products/:file',
    {
      schema: {
        hide: true,
        params: Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}\\.svg$' }) }, { additionalProperties: false })
      }
    },
    forward
  )
}
