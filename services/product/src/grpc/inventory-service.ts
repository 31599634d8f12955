import { create } from '@bufbuild/protobuf'
import type { ServiceImpl } from '@connectrpc/connect'
import { InventoryProductSchema, type InventoryService, StockLineSchema } from '@polyshop/proto'
import type { Inventory } from '../domain/inventory.js'

/** shop.inventory.v1.InventoryService over the Inventory domain; errors are ConnectErrors with gRPC codes. */
export function inventoryService(inventory: Inventory): ServiceImpl<typeof InventoryService> {
  return {
    async getProducts(request) {
      const products = await inventory.getProducts(request.productIds)
      return {
        products: products.map((p) =>
          create(InventoryProductSchema, {
            id: p._id,
            name: p.name,
            price: { amount: BigInt(p.price.amount), currency: p.price.currency },
            stock: p.stock
          })
        )
      }
    },
    async reserveStock(request) {
      const lines = await inventory.reserve(
        request.orderId,
        request.lines.map((line) => ({ productId: line.productId, quantity: line.quantity }))
      )
      return { orderId: request.orderId, lines: lines.map((line) => create(StockLineSchema, line)) }
    },
    async releaseStock(request) {
      return { released: await inventory.release(request.orderId) }
    }
  }
}
