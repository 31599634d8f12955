// `npm run seed -w services/product`: loads the demo catalog into MONGODB_URL (idempotent).
import { mongoClientOptions } from '@polyshop/config'
import { createLogger } from '@polyshop/logger'
import { MongoClient } from 'mongodb'
import { buildProductService } from '../app.js'
import { loadProductConfig } from '../config.js'
import { seedDemoCatalog } from './seed.js'

const config = loadProductConfig()
const logger = createLogger({ name: 'product-seed', level: config.LOG_LEVEL })
const mongo = new MongoClient(config.MONGODB_URL, mongoClientOptions(config))
await mongo.connect()
try {
  const service = await buildProductService({ config, db: mongo.db(), logger, resolveKey: async () => undefined })
  const added = await seedDemoCatalog(service.products, service.catalog, config.CATALOG_CURRENCY)
  console.log(`demo catalog: ${added.categories} categories and ${added.products} products added`)
  await service.app.close()
} finally {
  await mongo.close()
}
