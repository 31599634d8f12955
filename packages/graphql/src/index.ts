export { type DownstreamCallsOptions, maxCostRule, maxDownstreamCallsRule } from './cost.js'
export { graphqlErrorFormatter, publicGraphqlError } from './errors.js'
export { type GraphqlConfig, type GraphqlHardeningOptions, graphqlHardening, graphqlHardeningFromConfig } from './hardening.js'
export { Amount, productResolvers, productTypeDefs } from './product-types.js'
