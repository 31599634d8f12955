export { HTTP_SERVER_TIMEOUTS, type ListenOptions, listen } from './listen.js'
export { type Closer, type GracefulShutdown, type GracefulShutdownOptions, gracefulShutdown } from './shutdown.js'
