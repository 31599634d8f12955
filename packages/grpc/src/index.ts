export { healthService } from './health-service.js'
export { type RetryUnavailableOptions, retryUnavailable } from './retry.js'
export { closeGrpcServer, createGrpcServer, type GrpcServerOptions, MAX_MESSAGE_BYTES } from './server.js'
export { bearerIdentity, requireServiceCallers, serviceTokenInterceptor } from './service-auth.js'
