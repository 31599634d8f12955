import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import t, { type Test } from 'tap'
import { build, listenGrpc, serviceTokenFor, tokenFor } from './helper.js'

const protoRoot = fileURLToPath(new URL('../../../proto', import.meta.url))

// Loaded from the .proto sources by an independent implementation, not from our generated code.
const definition = protoLoader.loadSync(['shop/inventory/v1/inventory.proto', 'grpc/health/v1/health.proto'], {
  includeDirs: [protoRoot],
  longs: String,
  enums: String,
  defaults: true
})
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  shop: { inventory: { v1: { InventoryService: grpc.ServiceClientConstructor } } }
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } }
}

/** A call as the order service makes it (its service token), or with the given token ('' for none). */
function call<T>(client: grpc.Client, method: string, request: object, token: string = serviceTokenFor('order')): Promise<T> {
  const metadata = new grpc.Metadata()
  if (token !== '') metadata.set('authorization', `Bearer ${token}`)
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 10_000)
    ;(
      client as unknown as Record<
        string,
        (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: T) => void) => void
      >
    )[method]?.(request, metadata, { deadline }, (error, value) => (error === null ? resolve(value) : reject(error)))
  })
}

/** The product service on a real port, with @grpc/grpc-js clients of its two gRPC services. */
async function grpcJsClients(t: Test) {
  const service = await build(t)
  const address = (await listenGrpc(t, service)).replace('http://', '')
  const inventory = new loaded.shop.inventory.v1.InventoryService(address, grpc.credentials.createInsecure())
  const health = new loaded.grpc.health.v1.Health(address, grpc.credentials.createInsecure())
  t.teardown(() => {
    inventory.close()
    health.close()
  })
  return { service, inventory, health }
}

t.test('a @grpc/grpc-js client talks to the connect-node server over HTTP/2', async (t) => {
  const { service, inventory, health } = await grpcJsClients(t)

  const products = await call<{ products: Array<{ id: string; price: { amount: string; currency: string }; stock: number }> }>(
    inventory,
    'GetProducts',
    {
      productIds: ['wool-socks']
    }
  )
  t.same(
    products.products.map((p) => [p.id, p.price.amount, p.price.currency, p.stock]),
    [['wool-socks', '2200', 'EUR', 140]]
  )

  const reserved = await call<{ orderId: string; lines: Array<{ productId: string; quantity: number }> }>(inventory, 'ReserveStock', {
    orderId: 'grpc-js-1',
    lines: [{ productId: 'wool-socks', quantity: 3 }]
  })
  t.same(reserved, { orderId: 'grpc-js-1', lines: [{ productId: 'wool-socks', quantity: 3 }] })
  t.equal((await service.products.findById('wool-socks'))?.stock, 137)

  const refused = await call(inventory, 'ReserveStock', {
    orderId: 'grpc-js-2',
    lines: [
      { productId: 'wool-socks', quantity: 99 },
      { productId: 'dutch-oven', quantity: 99 }
    ]
  }).catch((error: grpc.ServiceError) => error)
  t.equal((refused as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION)
  t.match((refused as grpc.ServiceError).details, /left/)

  const status = await call<{ status: string }>(health, 'Check', { service: 'shop.inventory.v1.InventoryService' })
  t.equal(status.status, 'SERVING')
})

t.test('InventoryService serves the order service only: no token, a user token or another service is refused', async (t) => {
  const { service, inventory, health } = await grpcJsClients(t)
  const stock = async () => (await service.products.findById('wool-socks'))?.stock
  const before = await stock()
  const reserve = (token: string) =>
    call(inventory, 'ReserveStock', { orderId: `hoard-${token.slice(-8)}`, lines: [{ productId: 'wool-socks', quantity: 1 }] }, token).then(
      () => 'accepted',
      (error: grpc.ServiceError) => grpc.status[error.code]
    )
  const forged = tokenFor(['service'])
  t.equal(await reserve(''), 'UNAUTHENTICATED', 'no token')
  t.equal(await reserve('not-a-jwt'), 'UNAUTHENTICATED', 'garbage')
  t.equal(await reserve(tokenFor(['customer'])), 'UNAUTHENTICATED', "a customer's access token (the user audience)")
  t.equal(await reserve(tokenFor(['admin', 'customer'])), 'UNAUTHENTICATED', "an admin's access token")
  t.equal(await reserve(forged), 'UNAUTHENTICATED', 'a user-audience token claiming the service role')
  t.equal(await reserve(serviceTokenFor('recommendation')), 'PERMISSION_DENIED', "another service's token")
  t.equal(
    await call(inventory, 'ReleaseStock', { orderId: 'grpc-js-1' }, '').then(
      () => 'accepted',
      (error: grpc.ServiceError) => grpc.status[error.code]
    ),
    'UNAUTHENTICATED',
    'releasing needs it too'
  )
  t.equal(await stock(), before, 'nothing was reserved')
  t.equal(await reserve(serviceTokenFor('order')), 'accepted', "the order service's token")
  t.equal(await stock(), (before ?? 0) - 1)
  const status = await call<{ status: string }>(health, 'Check', { service: 'shop.inventory.v1.InventoryService' }, '')
  t.equal(status.status, 'SERVING', 'health checks need no token (kubelet probes)')
})
