import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/**
 * The OpenAPI document (/docs/json) generated from the route schemas by @fastify/swagger
 * (https://github.com/fastify/fastify-swagger) and its UI at /docs. Register before the routes.
 */
export async function apiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'polyshop API',
        version: '1.0.0',
        description: 'The public REST API of polyshop. Errors are RFC 9457 problem+json with a stable `code`. The same data is at /graphql.'
      },
      tags: [
        { name: 'auth', description: 'Accounts and sessions' },
        { name: 'users', description: 'Profiles and the admin view of accounts' },
        { name: 'products', description: 'The catalog' },
        { name: 'orders', description: 'Orders of the signed-in user' }
      ],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (ES256)' } }
      }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } })
}
