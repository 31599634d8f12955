// Every GraphQL document the storefront sends: small selections, one request per view.
const PRODUCT_SUMMARY = 'id name category price { amount currency } stock images'
const USER = 'id email name phone roles'
const AUTH = `user { ${USER} } accessToken refreshToken expiresIn`
const ORDER = `id userId status total { amount currency } createdAt updatedAt
  items { productId name quantity unitPrice { amount currency } product { images category } }
  shippingAddress { name line1 line2 city postalCode country }`

export const HOME = `query Home($limit: Int!) {
  categories { id name description productCount }
  recommendations(limit: $limit) { score reason product { ${PRODUCT_SUMMARY} } }
}`

export const PRODUCT_STOCK = `query ProductStock($id: ID!) { product(id: $id) { ${PRODUCT_SUMMARY} } }`

export const CATEGORIES = 'query Categories { categories { id name description productCount } }'

export const SEARCH = `query Search($filter: ProductFilter, $first: Int!, $after: String) {
  products(filter: $filter, first: $first, after: $after) { nextCursor items { ${PRODUCT_SUMMARY} } }
}`

export const PRODUCT = `query Product($id: ID!) {
  product(id: $id) { ${PRODUCT_SUMMARY} description updatedAt attributes { name value } }
  similarProducts(productId: $id, limit: 4) { score reason product { ${PRODUCT_SUMMARY} } }
  categories { id name }
}`

/** The current state of several products (the cart), one aliased field each. */
export function productsById(ids: readonly string[]): { query: string; variables: Record<string, string> } {
  const variables: Record<string, string> = {}
  const fields = ids.map((id, index) => {
    variables[`id${index}`] = id
    return `p${index}: product(id: $id${index}) { ${PRODUCT_SUMMARY} }`
  })
  const declarations = ids.map((_, index) => `$id${index}: ID!`).join(', ')
  return { query: `query Cart(${declarations}) { ${fields.join(' ')} }`, variables }
}

export const REGISTER = `mutation Register($input: RegisterInput!) { register(input: $input) { ${AUTH} } }`
export const LOGIN = `mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { ${AUTH} } }`
export const REFRESH = `mutation Refresh($refreshToken: String!) { refresh(refreshToken: $refreshToken) { ${AUTH} } }`
export const LOGOUT = 'mutation Logout($refreshToken: String) { logout(refreshToken: $refreshToken) }'

export const PLACE_ORDER = `mutation PlaceOrder($input: PlaceOrderInput!, $idempotencyKey: String!) {
  placeOrder(input: $input, idempotencyKey: $idempotencyKey) { ${ORDER} }
}`
export const ORDERS = `query Orders($first: Int!, $after: String, $allUsers: Boolean) {
  orders(first: $first, after: $after, allUsers: $allUsers) { nextCursor items { ${ORDER} } }
}`
export const ORDER_DETAIL = `query Order($id: ID!) { order(id: $id) { ${ORDER} } }`
export const CANCEL_ORDER = `mutation CancelOrder($id: ID!, $reason: String) { cancelOrder(id: $id, reason: $reason) { ${ORDER} } }`

export const UPDATE_PRODUCT = `mutation UpdateProduct($id: ID!, $input: UpdateProductInput!) {
  updateProduct(id: $id, input: $input) { ${PRODUCT_SUMMARY} description updatedAt attributes { name value } }
}`
export const UPDATE_ORDER_STATUS = `mutation UpdateOrderStatus($id: ID!, $status: OrderStatusStep!) {
  updateOrderStatus(id: $id, status: $status) { ${ORDER} }
}`

/** Live order status (over the WebSocket, see live.ts): one order, or all of the signed-in user's. */
export const ORDER_UPDATED = 'subscription OrderUpdated($id: ID) { orderUpdated(id: $id) { id status updatedAt } }'
