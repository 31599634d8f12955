import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  CategorySchema,
  CreateProductBody,
  MAX_PAGE,
  ProductIdParams,
  ProductPageSchema,
  ProductQuery,
  ProductSchema,
  UpdateProductBody
} from '@polyshop/api'
import { problemResponses } from '@polyshop/problem'
import Type from 'typebox'
import { type Catalog, toPublicProduct } from '../domain/catalog.js'
import { productSvg } from '../domain/images.js'
import { errors } from '../errors.js'
import type { ProductRepository, ProductSort } from '../repositories/products.js'
import { ImageParams } from '../schemas.js'

export interface CatalogRoutesOptions {
  catalog: Catalog
  products: ProductRepository
}

/** /api/v1/products, /api/v1/categories and the generated product pictures. */
export const catalogRoutes: FastifyPluginAsyncTypebox<CatalogRoutesOptions> = async (app, { catalog, products }) => {
  app.get(
    '/api/v1/products',
    { schema: { querystring: ProductQuery, response: { 200: ProductPageSchema, ...problemResponses(400) } } },
    async (request) => {
      const { ids, limit, minPrice, maxPrice, ...rest } = request.query
      if (ids !== undefined) {
        if (Object.keys(request.query).length > 1) throw errors.IDS_ALONE('ids cannot be combined with other parameters.')
        const wanted = [...new Set(ids.split(','))]
        const found = new Map((await products.findByIds(wanted)).map((p) => [p._id, p]))
        const items = wanted.flatMap((id) => {
          const product = found.get(id)
          return product === undefined ? [] : [toPublicProduct(product)]
        })
        return { items, nextCursor: null }
      }
      if (minPrice !== undefined && maxPrice !== undefined && minPrice > maxPrice) {
        throw errors.INVALID_PRICE_RANGE('minPrice is above maxPrice.')
      }
      const page = await products.search({
        ...rest,
        sort: rest.sort as ProductSort | undefined,
        minPrice,
        maxPrice,
        limit: Math.min(limit ?? 20, MAX_PAGE)
      })
      return { items: page.items.map(toPublicProduct), nextCursor: page.nextCursor }
    }
  )

  app.get(
    '/api/v1/products/:id',
    { schema: { params: ProductIdParams, response: { 200: ProductSchema, ...problemResponses(400, 404) } } },
    async (request) => {
      const product = await products.findById(request.params.id)
      if (product === null) throw errors.PRODUCT_NOT_FOUND()
      return toPublicProduct(product)
    }
  )

  app.get('/api/v1/categories', { schema: { response: { 200: Type.Array(CategorySchema) } } }, async () =>
    (await products.listCategories()).map((c) => ({ id: c._id, name: c.name, description: c.description, productCount: c.productCount }))
  )

  app.post(
    '/api/v1/products',
    {
      onRequest: app.requireRole('admin'),
      schema: { body: CreateProductBody, response: { 201: ProductSchema, ...problemResponses(400, 401, 403) } }
    },
    async (request, reply) => reply.code(201).send(toPublicProduct(await catalog.create(request.body)))
  )

  app.patch(
    '/api/v1/products/:id',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        params: ProductIdParams,
        body: UpdateProductBody,
        response: { 200: ProductSchema, ...problemResponses(400, 401, 403, 404, 409) }
      }
    },
    async (request) => toPublicProduct(await catalog.update(request.params.id, request.body))
  )

  app.delete(
    '/api/v1/products/:id',
    {
      onRequest: app.requireRole('admin'),
      schema: { params: ProductIdParams, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } }
    },
    async (request, reply) => {
      await catalog.remove(request.params.id)
      return reply.code(204).send(null)
    }
  )

  app.get('/images/products/:file', { schema: { params: ImageParams } }, async (request, reply) => {
    const product = await products.findById(request.params.file.slice(0, -'.svg'.length))
    if (product === null) throw errors.PRODUCT_NOT_FOUND()
    return reply.type('image/svg+xml').header('cache-control', 'public, max-age=3600').send(productSvg(product))
  })
}
