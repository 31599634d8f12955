import Type from 'typebox'

/** Integer minor units and an ISO 4217 code: `{ amount: 1999, currency: "EUR" }`. */
export const MoneySchema = Type.Object(
  { amount: Type.Integer({ minimum: 0 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }) },
  { additionalProperties: false }
)

const Line = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' })

export const AddressSchema = Type.Object(
  {
    name: Line(100),
    line1: Line(200),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Line(100),
    postalCode: Line(20),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. "DE"' })
  },
  { additionalProperties: false }
)

export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const
export type OrderStatusName = (typeof ORDER_STATUSES)[number]

export const OrderSchema = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    status: Type.Union([
      Type.Literal('PENDING'),
      Type.Literal('CONFIRMED'),
      Type.Literal('PAID'),
      Type.Literal('SHIPPED'),
      Type.Literal('DELIVERED'),
      Type.Literal('CANCELLED')
    ]),
    items: Type.Array(
      Type.Object(
        { productId: Type.String(), name: Type.String(), quantity: Type.Integer(), unitPrice: MoneySchema },
        { additionalProperties: false }
      )
    ),
    total: MoneySchema,
    shippingAddress: AddressSchema,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' })
  },
  { additionalProperties: false }
)

export const OrderPageSchema = Type.Object(
  { items: Type.Array(OrderSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false }
)

/** The order service checks the limits again (lines, quantities); these bound the work before it is asked. */
export const CreateOrderBody = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        { productId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), quantity: Type.Integer({ minimum: 1, maximum: 99 }) },
        { additionalProperties: false }
      ),
      { minItems: 1, maxItems: 50 }
    ),
    shippingAddress: AddressSchema
  },
  { additionalProperties: false }
)

export const IdempotencyKeyHeaders = Type.Object({
  'idempotency-key': Type.String({
    pattern: '^[A-Za-z0-9_.:-]{1,100}$',
    description: 'Chosen by the client, unique per order it means to place: a retry with the same key and body returns the same order'
  })
})

export const OrderIdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false })

export const ListOrdersQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 300, pattern: '^[A-Za-z0-9_=-]+$' })),
    allUsers: Type.Optional(Type.Boolean({ default: false, description: "Admins only: every user's orders, not the caller's." }))
  },
  { additionalProperties: false }
)

export const CancelOrderBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })

export const UpdateOrderStatusBody = Type.Object(
  { status: Type.Union([Type.Literal('PAID'), Type.Literal('SHIPPED'), Type.Literal('DELIVERED')]) },
  { additionalProperties: false }
)
