import { create } from '@bufbuild/protobuf'
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect'
import { type Health, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from '@polyshop/proto'

/**
 * grpc.health.v1.Health, for Kubernetes' native gRPC probes. "" is the server as a whole;
 * each hosted service by its full name.
 */
export function healthService(services: string[], isServing: () => Promise<boolean>): ServiceImpl<typeof Health> {
  const known = new Set(['', ...services])
  const status = async (service: string) => {
    if (!known.has(service)) throw new ConnectError(`unknown service "${service}"`, Code.NotFound)
    return create(HealthCheckResponseSchema, {
      status: (await isServing()) ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING
    })
  }
  return {
    async check(request) {
      return await status(request.service)
    },
    async list() {
      const statuses: Record<string, ReturnType<typeof create<typeof HealthCheckResponseSchema>>> = {}
      for (const service of known) statuses[service] = await status(service)
      return { statuses }
    },
    async *watch(request, context) {
      // Reports now and whenever the status changes, until the client goes away.
      let last: HealthCheckResponse_ServingStatus | undefined
      while (!context.signal.aborted) {
        const current = await status(request.service)
        if (current.status !== last) {
          last = current.status
          yield current
        }
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
  }
}
