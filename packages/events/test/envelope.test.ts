import { OrderStatus } from '@polyshop/proto'
import t from 'tap'
import { createEvent, EventDecodeError, fromKafkaMessage, isEvent, toKafkaMessage } from '../src/index.js'

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

function created() {
  return createEvent(
    'shop.order.created.v1',
    {
      orderId: 'o-1',
      userId: 'u-1',
      items: [{ productId: 'p-1', name: 'Espresso cup', quantity: 2, unitPrice: { amount: 1250n, currency: 'EUR' } }],
      total: { amount: 2500n, currency: 'EUR' },
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
      createdAt: { seconds: 1_790_000_000n, nanos: 0 }
    },
    { source: '/polyshop/order', key: 'o-1', traceparent, time: new Date('2026-11-29T10:00:00.000Z') }
  )
}

function asConsumed(message: ReturnType<typeof toKafkaMessage>) {
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]))
  return { key: Buffer.from(String(message.key)), value: Buffer.from(String(message.value)), headers }
}

t.test('binary mode: attributes travel as ce_ headers, the payload as protobuf JSON', async (t) => {
  const event = created()
  const message = toKafkaMessage(event)
  t.same(message.headers, {
    ce_specversion: '1.0',
    ce_id: event.id,
    ce_type: 'shop.order.created.v1',
    ce_source: '/polyshop/order',
    ce_time: '2026-11-29T10:00:00.000Z',
    'content-type': 'application/json',
    traceparent
  })
  t.equal(message.key, 'o-1')
  t.same(JSON.parse(String(message.value)), {
    orderId: 'o-1',
    userId: 'u-1',
    items: [{ productId: 'p-1', name: 'Espresso cup', quantity: 2, unitPrice: { amount: '1250', currency: 'EUR' } }],
    total: { amount: '2500', currency: 'EUR' },
    shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    createdAt: '2026-09-21T14:13:20Z'
  })
  t.equal(event.topic, 'order.events')
  t.match(event.id, /^[0-9a-f-]{36}$/)
})

t.test('a consumed message decodes back to the typed event', async (t) => {
  const event = created()
  const decoded = fromKafkaMessage(asConsumed(toKafkaMessage(event)))
  t.ok(isEvent(decoded, 'shop.order.created.v1'))
  if (!isEvent(decoded, 'shop.order.created.v1')) return
  t.equal(decoded.id, event.id)
  t.equal(decoded.key, 'o-1')
  t.equal(decoded.traceparent, traceparent)
  t.equal(decoded.time.toISOString(), '2026-11-29T10:00:00.000Z')
  t.equal(decoded.data.total?.amount, 2500n)
  t.equal(decoded.data.items[0]?.unitPrice?.currency, 'EUR')
})

t.test('a missing or malformed traceparent starts a new trace', async (t) => {
  const event = createEvent(
    'shop.order.status_changed.v1',
    { orderId: 'o', status: OrderStatus.PAID },
    { source: '/s', key: 'o', traceparent: 'nonsense' }
  )
  t.match(event.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
})

t.test('an event without a key is refused', async (t) => {
  t.throws(() => createEvent('shop.user.registered.v1', { userId: 'u' }, { source: '/s', key: '' }), /key/)
})

t.test('messages that are not well-formed events are refused with the reason', async (t) => {
  const good = asConsumed(toKafkaMessage(created()))
  const cases: Array<[string, (m: typeof good) => void, RegExp]> = [
    [
      'no ce_id',
      (m) => {
        delete m.headers.ce_id
      },
      /missing header ce_id/
    ],
    [
      'no ce_type',
      (m) => {
        delete m.headers.ce_type
      },
      /missing header ce_type/
    ],
    [
      'other spec version',
      (m) => {
        m.headers.ce_specversion = Buffer.from('0.3')
      },
      /ce_specversion/
    ],
    [
      'structured mode',
      (m) => {
        m.headers['content-type'] = Buffer.from('application/cloudevents+json')
      },
      /content-type/
    ],
    [
      'unknown type',
      (m) => {
        m.headers.ce_type = Buffer.from('shop.order.exploded.v1')
      },
      /unknown ce_type/
    ],
    [
      'bad time',
      (m) => {
        m.headers.ce_time = Buffer.from('yesterday')
      },
      /ce_time/
    ],
    [
      'not JSON',
      (m) => {
        m.value = Buffer.from('{"orderId":')
      },
      /not a valid shop.events.v1.OrderCreated/
    ],
    [
      'wrong field type',
      (m) => {
        m.value = Buffer.from('{"orderId": 42}')
      },
      /not a valid/
    ]
  ]
  for (const [name, mutate, reason] of cases) {
    const message = structuredClone(good)
    for (const [k, v] of Object.entries(good.headers)) message.headers[k] = Buffer.from(v)
    message.value = Buffer.from(good.value)
    mutate(message)
    const error = t.throws(() => fromKafkaMessage(message), name) as EventDecodeError
    t.type(error, EventDecodeError, name)
    t.match(error.message, reason, name)
  }
})

t.test('fields a newer producer added are ignored, not fatal', async (t) => {
  const message = asConsumed(toKafkaMessage(created()))
  const value = JSON.parse(message.value.toString())
  message.value = Buffer.from(JSON.stringify({ ...value, giftWrap: true }))
  t.equal(fromKafkaMessage(message).key, 'o-1')
})
