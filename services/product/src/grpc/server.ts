import type { Http2Server } from 'node:http2'
import type { Identity } from '@polyshop/auth'
import { createGrpcServer, healthService, requireServiceCallers } from '@polyshop/grpc'
import { Health, InventoryService } from '@polyshop/proto'
import type { Logger } from 'pino'
import type { Inventory } from '../domain/inventory.js'
import { inventoryService } from './inventory-service.js'

export interface InventoryServerOptions {
  inventory: Inventory
  logger: Logger
  /** Verifies service tokens (the internal audience). */
  verifyCaller: (token: string) => Promise<Identity>
  /** The services allowed to call InventoryService. */
  callers: readonly string[]
  isServing: () => Promise<boolean>
}

/** The product service's gRPC port: InventoryService (for the allowed services only) and grpc.health.v1 (open). */
export function createInventoryServer(options: InventoryServerOptions): Http2Server {
  return createGrpcServer({
    logger: options.logger,
    interceptors: [requireServiceCallers(options.verifyCaller, { [InventoryService.typeName]: options.callers })],
    routes: (router) => {
      router.service(InventoryService, inventoryService(options.inventory))
      router.service(Health, healthService([InventoryService.typeName], options.isServing))
    }
  })
}
