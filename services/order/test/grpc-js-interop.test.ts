import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import t from 'tap'
import { address, build } from './helper.js'

const protoRoot = fileURLToPath(new URL('../../../proto', import.meta.url))
const definition = protoLoader.loadSync(['shop/order/v1/order.proto'], {
  includeDirs: [protoRoot],
  longs: String,
  enums: String,
  defaults: true
})
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  shop: { order: { v1: { OrderService: grpc.ServiceClientConstructor } } }
}

t.test('a @grpc/grpc-js client places and reads an order, its token in the metadata', async (t) => {
  const stack = await build(t)
  const client = new loaded.shop.order.v1.OrderService(stack.orderUrl.replace('http://', ''), grpc.credentials.createInsecure())
  t.teardown(() => client.close())
  const call = <T>(method: string, request: object, token?: string) =>
    new Promise<T>((resolve, reject) => {
      const metadata = new grpc.Metadata()
      if (token !== undefined) metadata.set('authorization', `Bearer ${token}`)
      ;(
        client as unknown as Record<
          string,
          (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: T) => void) => void
        >
      )[method]?.(request, metadata, { deadline: new Date(Date.now() + 30_000) }, (error, value) =>
        error === null ? resolve(value) : reject(error)
      )
    })
  const token = stack.tokens.token(['customer'])
  const created = await call<{ order: { id: string; status: string; total: { amount: string; currency: string } } }>(
    'CreateOrder',
    { items: [{ productId: 'canvas-tote', quantity: 2 }], shippingAddress: address, idempotencyKey: 'grpc-js' },
    token
  )
  t.match(created.order, { status: 'ORDER_STATUS_CONFIRMED', total: { amount: '3800', currency: 'EUR' } })
  const read = await call<{ order: { id: string } }>('GetOrder', { orderId: created.order.id }, token)
  t.equal(read.order.id, created.order.id)
  const anonymous = await call('GetOrder', { orderId: created.order.id }).catch((error: grpc.ServiceError) => error)
  t.equal((anonymous as grpc.ServiceError).code, grpc.status.UNAUTHENTICATED)
})
