export { maxCostRule } from './cost.js'
export { graphqlErrorFormatter } from './errors.js'
export { type GraphqlHardeningOptions, graphqlHardening } from './hardening.js'
export { Amount, productResolvers, productTypeDefs } from './product-types.js'
