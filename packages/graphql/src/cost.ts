import {
  type ASTNode,
  type FieldNode,
  GraphQLError,
  type GraphQLSchema,
  isObjectType,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule
} from 'graphql'

/** The page-size arguments of polyshop's schemas: a field asked for with `first: 50` costs its children 50 times. */
const LIST_ARGUMENTS = new Set(['first', 'limit'])

/** Every top-level field is at least one call to a service: aliasing it a hundred times is a hundred calls. */
const ROOT_FIELD_COST = 50

/** Read once per schema, not once per validated query. */
const listSizesBySchema = new WeakMap<GraphQLSchema, Map<string, number>>()

/** Per field name, the page size a field gets when the query leaves its `first`/`limit` out (the schema's default). */
function defaultListSizes(context: ValidationContext): Map<string, number> {
  const schema = context.getSchema()
  const known = listSizesBySchema.get(schema)
  if (known !== undefined) return known
  const sizes = new Map<string, number>()
  listSizesBySchema.set(schema, sizes)
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue
    for (const field of Object.values(type.getFields())) {
      for (const argument of field.args) {
        if (LIST_ARGUMENTS.has(argument.name) && typeof argument.defaultValue === 'number') {
          sizes.set(field.name, Math.max(sizes.get(field.name) ?? 1, argument.defaultValue))
        }
      }
    }
  }
  return sizes
}

/**
 * Refuses operations whose estimated work exceeds `maxCost`: every field costs 1, a top-level
 * field 50 (it calls a service), and the fields under a field with a `first`/`limit` argument cost
 * that many times over (left out: the schema's default; a variable: `assumedListSize`, the largest
 * page the schema allows). Fragments are expanded where they are spread, so aliases and fragments
 * cannot multiply work past the limit unseen.
 */
export function maxCostRule(maxCost: number, assumedListSize = 100): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const defaults = defaultListSizes(context)
      const cost =
        ROOT_FIELD_COST * operation.selectionSet.selections.length + selectionCost(context, defaults, operation.selectionSet, 1, new Set())
      if (cost > maxCost) {
        context.reportError(
          new GraphQLError(
            `This operation is too expensive (estimated cost ${cost}, at most ${maxCost}); ask for fewer fields or smaller pages.`,
            {
              nodes: [operation as ASTNode],
              extensions: { code: 'GRAPHQL_TOO_EXPENSIVE' }
            }
          )
        )
      }
    }
  })

  function multiplier(field: FieldNode, defaults: Map<string, number>): number {
    for (const argument of field.arguments ?? []) {
      if (!LIST_ARGUMENTS.has(argument.name.value)) continue
      if (argument.value.kind === Kind.INT) return Math.max(1, Number.parseInt(argument.value.value, 10))
      if (argument.value.kind === Kind.VARIABLE) return assumedListSize
    }
    return defaults.get(field.name.value) ?? 1
  }

  function selectionCost(
    context: ValidationContext,
    defaults: Map<string, number>,
    selectionSet: SelectionSetNode | undefined,
    factor: number,
    seen: Set<string>
  ): number {
    if (selectionSet === undefined) return 0
    let cost = 0
    for (const selection of selectionSet.selections) {
      if (cost > maxCost) return cost
      if (selection.kind === Kind.FIELD) {
        cost += factor + selectionCost(context, defaults, selection.selectionSet, factor * multiplier(selection, defaults), seen)
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        cost += selectionCost(context, defaults, selection.selectionSet, factor, seen)
      } else {
        const name = selection.name.value
        // A cycle is already an error of its own (NoFragmentCycles); do not recurse forever.
        if (seen.has(name)) continue
        const fragment = context.getFragment(name)
        cost += selectionCost(context, defaults, fragment?.selectionSet, factor, new Set([...seen, name]))
      }
    }
    return cost
  }
}

export interface DownstreamCallsOptions {
  /** The most calls to other services one operation may make. */
  maxCalls: number
  /**
   * Nested fields resolved by a batching loader (e.g. `OrderItem.product`): one call per
   * operation however many times they are selected.
   */
  batchedFields?: ReadonlyArray<string>
}

/**
 * Refuses, before anything runs, an operation that would make more than `maxCalls` calls to the
 * services: every top-level field (after expanding fragments and aliases) is one call, and each
 * batched nested field one more. A hundred aliased searches are a hundred calls, not one query.
 */
export function maxDownstreamCallsRule(options: DownstreamCallsOptions): ValidationRule {
  const batched = new Set(options.batchedFields ?? [])
  return (context: ValidationContext) => {
    // Batched fields anywhere in the document (operations and fragments): counted for every operation.
    const loaders = new Set<string>()
    return {
      Field(field) {
        const parent = context.getParentType()
        const name = parent === null || parent === undefined ? undefined : `${parent.name}.${field.name.value}`
        if (name !== undefined && batched.has(name)) loaders.add(name)
      },
      Document: {
        leave(document) {
          for (const definition of document.definitions) {
            if (definition.kind !== Kind.OPERATION_DEFINITION) continue
            const calls = countRootFields(context, definition.selectionSet, new Set()) + loaders.size
            if (calls <= options.maxCalls) continue
            context.reportError(
              new GraphQLError(
                `This operation would make ${calls} calls to the services (at most ${options.maxCalls}); split it into several requests.`,
                { nodes: [definition as ASTNode], extensions: { code: 'GRAPHQL_TOO_MANY_CALLS' } }
              )
            )
          }
        }
      }
    }
  }
}

function countRootFields(context: ValidationContext, selectionSet: SelectionSetNode, seen: Set<string>): number {
  let count = 0
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      // __typename asks no service.
      if (!selection.name.value.startsWith('__')) count += 1
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countRootFields(context, selection.selectionSet, seen)
    } else if (!seen.has(selection.name.value)) {
      const fragment = context.getFragment(selection.name.value)
      if (fragment !== undefined && fragment !== null)
        count += countRootFields(context, fragment.selectionSet, new Set([...seen, selection.name.value]))
    }
  }
  return count
}
