import type { Http2Server } from 'node:http2'
import { createGrpcServer, healthService } from '@polyshop/grpc'
import { Health, InventoryService } from '@polyshop/proto'
import type { Logger } from 'pino'
import type { Inventory } from '../domain/inventory.js'
import { inventoryService } from './inventory-service.js'

export interface InventoryServerOptions {
  inventory: Inventory
  logger: Logger
  isServing: () => Promise<boolean>
}

/** The product service's gRPC port: InventoryService and grpc.health.v1. */
export function createInventoryServer(options: InventoryServerOptions): Http2Server {
  return createGrpcServer({
    logger: options.logger,
    routes: (router) => {
      router.service(InventoryService, inventoryService(options.inventory))
      router.service(Health, healthService([InventoryService.typeName], options.isServing))
    }
  })
}
