export {
  type Category,
  type Product,
  ProductCatalogClient,
  type ProductCatalogOptions,
  type ProductPage,
  type ProductSearch,
  type ProductUpdate
} from './product-catalog.js'
export { type ForwardedHeaders, RestClient, type RestClientOptions, type RestRequest, upstreamProblems } from './rest-client.js'
