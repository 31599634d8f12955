export { type HealthRoutesOptions, healthRoutes, mongoPing } from './health.js'
export { HTTP_SERVER_TIMEOUTS, type ListenOptions, listen, SERVICE_FASTIFY_OPTIONS } from './listen.js'
export { type Closer, type GracefulShutdown, type GracefulShutdownOptions, gracefulShutdown } from './shutdown.js'
export { useStrictValidation } from './validation.js'
