export * from './orders.js'
export * from './products.js'
export * from './users.js'
