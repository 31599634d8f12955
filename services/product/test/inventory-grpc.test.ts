import { Code, ConnectError, createClient } from '@connectrpc/connect'
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node'
import { serviceTokenInterceptor } from '@polyshop/grpc'
import { Health, HealthCheckResponse_ServingStatus, InventoryService } from '@polyshop/proto'
import { grpcCode } from '@polyshop/testkit'
import t, { type Test } from 'tap'
import { asOrderService, build, listenGrpc, serviceTokenFor } from './helper.js'

async function setUp(t: Test) {
  const service = await build(t)
  const baseUrl = await listenGrpc(t, service)
  const client = createClient(InventoryService, createGrpcTransport({ baseUrl, interceptors: asOrderService() }))
  const stockOf = async (id: string) => (await service.products.findById(id))?.stock
  return { service, baseUrl, client, stockOf }
}

t.test('GetProducts returns price and stock by id, leaving unknown ids out', async (t) => {
  const { client } = await setUp(t)
  const reply = await client.getProducts({ productIds: ['chefs-knife', 'nope', 'beanie'] }, { timeoutMs: 5000 })
  t.same(reply.products.map((p) => [p.id, p.name, p.price?.amount, p.price?.currency, p.stock]).sort(), [
    ['beanie', 'Ribbed Beanie', 2500n, 'EUR', 85],
    ['chefs-knife', "Chef's Knife 20 cm", 7900n, 'EUR', 35]
  ])
})

t.test('1,000 concurrent reservations of a product with stock 100: exactly 100 succeed', async (t) => {
  const { service, client, stockOf } = await setUp(t)
  await service.products.products.updateOne({ _id: 'enamel-mug' }, { $set: { stock: 100 } })
  const calls = Array.from({ length: 1000 }, (_, i) =>
    client.reserveStock({ orderId: `order-${i}`, lines: [{ productId: 'enamel-mug', quantity: 1 }] }, { timeoutMs: 120_000 }).then(
      () => 'ok' as const,
      (error: unknown) => ConnectError.from(error).code
    )
  )
  const outcomes = await Promise.all(calls)
  t.equal(outcomes.filter((o) => o === 'ok').length, 100)
  t.equal(outcomes.filter((o) => o === Code.FailedPrecondition).length, 900, 'the rest are out of stock')
  t.equal(await stockOf('enamel-mug'), 0)
})

t.test('a reservation is idempotent per order, all or nothing, and released once', async (t) => {
  const { client, stockOf } = await setUp(t)
  const lines = [
    { productId: 'headlamp', quantity: 2 },
    { productId: 'picnic-blanket', quantity: 1 }
  ]
  await client.reserveStock({ orderId: 'o-1', lines })
  await client.reserveStock({ orderId: 'o-1', lines: [...lines].reverse() })
  t.equal(await stockOf('headlamp'), 42, 'repeating the same reservation does not reserve twice')
  t.equal(await stockOf('picnic-blanket'), 25)
  t.equal(
    await grpcCode(client.reserveStock({ orderId: 'o-1', lines: [{ productId: 'headlamp', quantity: 3 }] })),
    Code.AlreadyExists,
    'same order, other lines'
  )

  t.equal(
    await grpcCode(
      client.reserveStock({
        orderId: 'o-2',
        lines: [
          { productId: 'headlamp', quantity: 1 },
          { productId: 'sleeping-bag', quantity: 99 }
        ]
      })
    ),
    Code.FailedPrecondition
  )
  t.equal(await stockOf('headlamp'), 42, 'a failed line gives back the lines already taken')
  t.equal(await grpcCode(client.reserveStock({ orderId: 'o-3', lines: [{ productId: 'no-such-product', quantity: 1 }] })), Code.NotFound)

  t.equal((await client.releaseStock({ orderId: 'o-1' })).released, true)
  t.equal((await client.releaseStock({ orderId: 'o-1' })).released, false, 'releasing twice gives back once')
  t.equal(await stockOf('headlamp'), 44)
  t.equal(await stockOf('picnic-blanket'), 26)
  t.equal((await client.releaseStock({ orderId: 'never-reserved' })).released, false)
  t.equal(await grpcCode(client.reserveStock({ orderId: 'o-1', lines })), Code.FailedPrecondition, 'a released order cannot reserve again')
  t.equal((await client.releaseStock({ orderId: 'gave-up' })).released, false)
  t.equal(
    await grpcCode(client.reserveStock({ orderId: 'gave-up', lines })),
    Code.FailedPrecondition,
    'nor can one released before its reservation arrived'
  )
  t.equal(await stockOf('headlamp'), 44)
})

t.test('bad arguments are INVALID_ARGUMENT and change nothing', async (t) => {
  const { client, stockOf } = await setUp(t)
  const cases = [
    { orderId: '', lines: [{ productId: 'beanie', quantity: 1 }] },
    { orderId: 'o', lines: [] },
    { orderId: 'o', lines: [{ productId: 'beanie', quantity: 0 }] },
    { orderId: 'o', lines: [{ productId: 'beanie', quantity: 100 }] },
    {
      orderId: 'o',
      lines: [
        { productId: 'beanie', quantity: 60 },
        { productId: 'beanie', quantity: 60 }
      ]
    },
    { orderId: 'o', lines: [{ productId: '$where', quantity: 1 }] },
    { orderId: 'x'.repeat(65), lines: [{ productId: 'beanie', quantity: 1 }] },
    { orderId: 'o', lines: Array.from({ length: 51 }, () => ({ productId: 'beanie', quantity: 1 })) }
  ]
  for (const request of cases)
    t.equal(await grpcCode(client.reserveStock(request)), Code.InvalidArgument, JSON.stringify(request).slice(0, 80))
  t.equal(await grpcCode(client.getProducts({ productIds: Array.from({ length: 201 }, (_, i) => `p${i}`) })), Code.InvalidArgument)
  t.equal(await stockOf('beanie'), 85)
})

t.test('the same port speaks Connect too, and serves grpc.health.v1', async (t) => {
  const { baseUrl } = await setUp(t)
  const connect = createClient(InventoryService, createConnectTransport({ baseUrl, httpVersion: '2', interceptors: asOrderService() }))
  t.equal((await connect.getProducts({ productIds: ['beanie'] })).products[0]?.name, 'Ribbed Beanie')
  const health = createClient(Health, createGrpcTransport({ baseUrl }))
  t.equal((await health.check({ service: '' })).status, HealthCheckResponse_ServingStatus.SERVING)
  t.equal((await health.check({ service: 'shop.inventory.v1.InventoryService' })).status, HealthCheckResponse_ServingStatus.SERVING)
  t.equal(await grpcCode(health.check({ service: 'nope' })), Code.NotFound)
})

t.test('a client whose service token is refused gets a fresh one and sends the call once more', async (t) => {
  const service = await build(t)
  const baseUrl = await listenGrpc(t, service)
  const handed: string[] = []
  let invalidated = 0
  // A forged signature: its first character changed (the last one carries only two bits, and a
  // replacement that keeps them leaves the signature valid — a quarter of the time).
  const forged = (token: string) => {
    const [header, payload, signature = ''] = token.split('.')
    return `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
  }
  const tokens = [forged(serviceTokenFor('recommendation')), serviceTokenFor('order')]
  const source = {
    token: async () => {
      const token = tokens[Math.min(invalidated, tokens.length - 1)] as string
      handed.push(token)
      return token
    },
    invalidate: () => {
      invalidated += 1
    }
  }
  const client = createClient(InventoryService, createGrpcTransport({ baseUrl, interceptors: [serviceTokenInterceptor(source)] }))
  const reply = await client.reserveStock({ orderId: 'retried', lines: [{ productId: 'beanie', quantity: 1 }] }, { timeoutMs: 5000 })
  t.equal(reply.orderId, 'retried')
  t.equal(invalidated, 1, 'the refused token was dropped')
  t.equal(handed.length, 2, 'and the call went twice')
  t.equal((await service.products.findById('beanie'))?.stock, 84, 'reserved once')
})
