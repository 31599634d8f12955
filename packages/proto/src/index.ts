// Everything buf generates, from one import. Regenerate with `npm run generate`.
export * from './gen/grpc/health/v1/health_pb.js'
export * from './gen/shop/common/v1/address_pb.js'
export * from './gen/shop/common/v1/money_pb.js'
export * from './gen/shop/events/v1/events_pb.js'
export * from './gen/shop/inventory/v1/inventory_pb.js'
export * from './gen/shop/order/v1/order_pb.js'
