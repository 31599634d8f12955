import { env, graphqlVariables, loadConfigOrExit, Type, tokenVerificationVariables } from '@polyshop/config'
import type { Static } from 'typebox'

const serviceUrl = (fallback: string, what: string) =>
  Type.String({ pattern: '^https?://[^\\s]+$', default: fallback, description: `${what}, an http:// URL` })
const perMinute = (fallback: number, what: string) =>
  Type.Integer({ minimum: 1, maximum: 1_000_000, default: fallback, description: `${what} per client IP per minute` })

export const GatewayConfigSchema = Type.Object({
  PORT: env.port(8080),
  MANAGEMENT_PORT: Type.Integer({
    minimum: 1,
    maximum: 65_535,
    default: 8081,
    description: 'the TCP port of /metrics, /healthz and /readyz for Prometheus; never routed by the Ingress/HTTPRoute'
  }),
  HOST: env.host(),
  LOG_LEVEL: env.logLevel(),
  ...tokenVerificationVariables,
  PRODUCT_SERVICE_URL: serviceUrl('http://127.0.0.1:3002', "the product service's REST address"),
  ORDER_GRPC_URL: serviceUrl('http://127.0.0.1:50051', "the order service's gRPC address (h2c)"),
  RECOMMENDATION_URL: serviceUrl('http://127.0.0.1:3004/graphql', "the recommendation service's GraphQL endpoint"),
  ...graphqlVariables,
  DOWNSTREAM_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 5000,
    description: 'the deadline of each call to a service, in ms (past it: 504)'
  }),
  RATE_LIMIT_PER_MINUTE: perMinute(1200, 'requests'),
  AUTH_RATE_LIMIT_PER_MINUTE: perMinute(20, 'register, login and refresh attempts'),
  ORDER_RATE_LIMIT_PER_MINUTE: perMinute(30, 'orders placed'),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1024,
    maximum: 10 * 1024 * 1024,
    default: 64 * 1024,
    description: 'the largest request body, in bytes'
  }),
  CORS_ORIGINS: Type.String({
    default: '',
    pattern: '^(\\*|(https?://[^\\s,]+)(,https?://[^\\s,]+)*)?$',
    description:
      'origins allowed to call the API from a browser: a comma-separated list of http(s) origins, * for any, empty for none (the storefront is same-origin)'
  }),
  TRUST_PROXY: env.trustProxy(),
  TOKEN_CACHE_SIZE: Type.Integer({
    minimum: 0,
    maximum: 1_000_000,
    default: 10_000,
    description: 'verified access tokens remembered (0: verify every time)'
  }),
  STOREFRONT_DIR: Type.Optional(
    Type.String({ minLength: 1, description: 'a directory of built storefront files served at / (unset: the bundled page)' })
  )
})

export type GatewayConfig = Static<typeof GatewayConfigSchema>

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfigOrExit('gateway', GatewayConfigSchema, environment)
}
