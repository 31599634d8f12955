export { healthService } from './health-service.js'
export { closeGrpcServer, createGrpcServer, type GrpcServerOptions, MAX_MESSAGE_BYTES } from './server.js'
export { bearerIdentity, requireServiceCallers, serviceTokenInterceptor } from './service-auth.js'
