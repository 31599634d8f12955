import { env, graphqlVariables, kafkaVariables, loadConfigOrExit, Type, tokenVerificationVariables } from '@polyshop/config'
import type { Static } from 'typebox'

const serviceUrl = (fallback: string, what: string) =>
  Type.String({ pattern: '^https?://[^\\s]+$', default: fallback, description: `${what}, an http:// URL` })
const limit = (fallback: number, maximum: number, description: string) =>
  Type.Integer({ minimum: 1, maximum, default: fallback, description })
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
  // Live order updates (GraphQL subscriptions over WebSocket), fed from order.events.
  ...kafkaVariables,
  LIVE_MAX_CONNECTIONS: limit(
    5000,
    1_000_000,
    "open WebSocket connections one gateway process accepts (past it: 503 to the upgrade); each holds about 13 KiB, so 5,000 fit the chart's 256 MiB limit"
  ),
  LIVE_SUBSCRIPTIONS_PER_CONNECTION: limit(10, 1000, 'subscriptions one WebSocket connection may hold'),
  LIVE_SUBSCRIPTIONS_PER_USER: limit(20, 10_000, 'subscriptions one user may hold on one gateway process'),
  LIVE_PENDING_UPDATES: limit(
    100,
    100_000,
    'updates (of different orders) one subscription may have waiting for a slow client before its connection is closed with 1013'
  ),
  LIVE_MAX_BUFFERED_BYTES: limit(
    1_048_576,
    1_073_741_824,
    'bytes the gateway may have queued for one WebSocket client that is not reading before closing it with 1013'
  ),
  LIVE_IDLE_TIMEOUT_MS: limit(60_000, 86_400_000, 'a WebSocket connection without a subscription is closed after this long, in ms'),
  LIVE_INIT_TIMEOUT_MS: limit(10_000, 600_000, 'a WebSocket connection must send connection_init within this long, in ms (else 4408)'),
  LIVE_PING_INTERVAL_MS: limit(
    25_000,
    600_000,
    "WebSocket pings, in ms: keep proxies' idle timers from closing a quiet connection; a peer silent for two is dropped"
  ),
  STOREFRONT_DIR: Type.Optional(
    Type.String({ minLength: 1, description: 'a directory of built storefront files served at / (unset: the bundled page)' })
  )
})

export type GatewayConfig = Static<typeof GatewayConfigSchema>

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfigOrExit('gateway', GatewayConfigSchema, environment)
}
