import { NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql'
import { type DownstreamCallsOptions, maxCostRule, maxDownstreamCallsRule } from './cost.js'
import { graphqlErrorFormatter } from './errors.js'

export interface GraphqlHardeningOptions {
  /** Schema introspection (off in production: the storefront does not need it, attackers like it). */
  introspection: boolean
  /** GraphiQL at /graphiql. */
  ide: boolean
  maxDepth: number
  maxCost: number
  /** The most calls to other services one operation may make, and the batched nested fields (see maxDownstreamCallsRule). */
  downstreamCalls: DownstreamCallsOptions
  /** Runs of a query before graphql-jit compiles it; 0: never. */
  jit?: number
}

/** The GRAPHQL_* variables of a service's configuration (see graphqlVariables in @polyshop/config). */
export interface GraphqlConfig {
  GRAPHQL_INTROSPECTION: boolean
  GRAPHQL_IDE: boolean
  GRAPHQL_MAX_DEPTH: number
  GRAPHQL_MAX_COST: number
  GRAPHQL_MAX_CALLS: number
  GRAPHQL_JIT: number
}

/** `batchedFields`: the schema's nested fields resolved by a batching loader (one call per top-level field that reaches them). */
export function graphqlHardeningFromConfig(config: GraphqlConfig, batchedFields: ReadonlyArray<string> = []) {
  return graphqlHardening({
    introspection: config.GRAPHQL_INTROSPECTION,
    ide: config.GRAPHQL_IDE,
    maxDepth: config.GRAPHQL_MAX_DEPTH,
    maxCost: config.GRAPHQL_MAX_COST,
    downstreamCalls: { maxCalls: config.GRAPHQL_MAX_CALLS, batchedFields },
    jit: config.GRAPHQL_JIT
  })
}

/**
 * The mercurius options every polyshop GraphQL server shares (https://mercurius.dev/#/docs/api/options):
 * depth and cost limits, no introspection or IDE unless configured, no batched queries, and
 * errors that carry a code and never an internal message.
 */
export function graphqlHardening(options: GraphqlHardeningOptions) {
  const validationRules: ValidationRule[] = [maxCostRule(options.maxCost), maxDownstreamCallsRule(options.downstreamCalls)]
  if (!options.introspection) validationRules.push(NoSchemaIntrospectionCustomRule)
  return {
    queryDepth: options.maxDepth,
    validationRules,
    graphiql: options.ide,
    allowBatchedQueries: false,
    jit: options.jit ?? 0,
    errorFormatter: graphqlErrorFormatter
  }
}
