import {
  type ASTNode,
  type FieldNode,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isInterfaceType,
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
 * cannot multiply work past the limit unseen; each fragment is costed once per document, so
 * spreading fragments inside fragments cannot make the estimate itself expensive.
 */
export function maxCostRule(maxCost: number, assumedListSize = 100): ValidationRule {
  // Costs saturate here: anything above maxCost is refused, however far above.
  const ceiling = maxCost + 1
  return (context: ValidationContext) => {
    const defaults = defaultListSizes(context)
    const fragmentCosts = new Map<string, number>()

    function multiplier(field: FieldNode): number {
      for (const argument of field.arguments ?? []) {
        if (!LIST_ARGUMENTS.has(argument.name.value)) continue
        if (argument.value.kind === Kind.INT) return Math.max(1, Number.parseInt(argument.value.value, 10))
        if (argument.value.kind === Kind.VARIABLE) return assumedListSize
      }
      return defaults.get(field.name.value) ?? 1
    }

    /** The cost of a selection asked for once; asked for n times it costs n times as much. */
    function unitCost(selectionSet: SelectionSetNode | undefined, visiting: Set<string>): number {
      if (selectionSet === undefined) return 0
      let cost = 0
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          cost += 1 + multiplier(selection) * unitCost(selection.selectionSet, visiting)
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          cost += unitCost(selection.selectionSet, visiting)
        } else {
          cost += fragmentCost(selection.name.value, visiting)
        }
        if (cost >= ceiling) return ceiling
      }
      return cost
    }

    function fragmentCost(name: string, visiting: Set<string>): number {
      const known = fragmentCosts.get(name)
      if (known !== undefined) return known
      // A cycle is already an error of its own (NoFragmentCycles); do not recurse forever.
      if (visiting.has(name)) return 0
      visiting.add(name)
      const cost = unitCost(context.getFragment(name)?.selectionSet, visiting)
      visiting.delete(name)
      fragmentCosts.set(name, cost)
      return cost
    }

    return {
      OperationDefinition(operation) {
        const cost = Math.min(
          ceiling,
          ROOT_FIELD_COST * operation.selectionSet.selections.length + unitCost(operation.selectionSet, new Set())
        )
        if (cost <= maxCost) return
        context.reportError(
          new GraphQLError(`This operation is too expensive (estimated cost above ${maxCost}); ask for fewer fields or smaller pages.`, {
            nodes: [operation as ASTNode],
            extensions: { code: 'GRAPHQL_TOO_EXPENSIVE' }
          })
        )
      }
    }
  }
}

export interface DownstreamCallsOptions {
  /** The most calls to other services one operation may make. */
  maxCalls: number
  /**
   * Nested fields resolved by a batching loader (e.g. `OrderItem.product`): one call per
   * top-level field that reaches them, however many times they are selected under it.
   */
  batchedFields?: ReadonlyArray<string>
}

/**
 * Refuses, before anything runs, an operation that would make more than `maxCalls` calls to the
 * services: every top-level field (after expanding fragments and aliases) is one call, and each
 * batched field under it one more — a loader batches what resolves together, and two top-level
 * fields resolve apart, so `a: orders { …product } b: orders { …product }` is four calls. A
 * hundred aliased searches are a hundred calls, not one query. Each fragment is read once per
 * document, so fragments spread inside fragments cannot make the count itself expensive.
 */
export function maxDownstreamCallsRule(options: DownstreamCallsOptions): ValidationRule {
  const batched = new Set(options.batchedFields ?? [])
  return (context: ValidationContext) => {
    const schema = context.getSchema()
    const batchedByFragment = new Map<string, ReadonlySet<string>>()
    const callsByFragment = new Map<string, number>()

    function typeNamed(name: string | undefined): GraphQLNamedType | undefined {
      return name === undefined ? undefined : (schema.getType(name) ?? undefined)
    }

    /** Adds to `found` the batched fields (`Type.field`) selected anywhere under `selectionSet`. */
    function collectBatched(
      selectionSet: SelectionSetNode | undefined,
      parent: GraphQLNamedType | undefined,
      found: Set<string>,
      visiting: Set<string>
    ): void {
      if (selectionSet === undefined) return
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const field =
            parent !== undefined && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[selection.name.value] : undefined
          if (field === undefined || parent === undefined) continue
          if (batched.has(`${parent.name}.${field.name}`)) found.add(`${parent.name}.${field.name}`)
          collectBatched(selection.selectionSet, getNamedType(field.type), found, visiting)
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          collectBatched(selection.selectionSet, typeNamed(selection.typeCondition?.name.value) ?? parent, found, visiting)
        } else {
          for (const name of fragmentBatched(selection.name.value, visiting)) found.add(name)
        }
      }
    }

    function fragmentBatched(name: string, visiting: Set<string>): ReadonlySet<string> {
      const known = batchedByFragment.get(name)
      if (known !== undefined) return known
      const fragment = context.getFragment(name)
      // A cycle is already an error of its own (NoFragmentCycles).
      if (fragment === undefined || fragment === null || visiting.has(name)) return new Set()
      visiting.add(name)
      const found = new Set<string>()
      collectBatched(fragment.selectionSet, typeNamed(fragment.typeCondition.name.value), found, visiting)
      visiting.delete(name)
      batchedByFragment.set(name, found)
      return found
    }

    function rootCalls(selectionSet: SelectionSetNode, root: GraphQLNamedType | undefined, visiting: Set<string>): number {
      let calls = 0
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          // __typename asks no service.
          if (selection.name.value.startsWith('__')) continue
          const found = new Set<string>()
          const field = root !== undefined && isObjectType(root) ? root.getFields()[selection.name.value] : undefined
          if (field !== undefined) collectBatched(selection.selectionSet, getNamedType(field.type), found, new Set())
          calls += 1 + found.size
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          calls += rootCalls(selection.selectionSet, root, visiting)
        } else {
          calls += fragmentCalls(selection.name.value, root, visiting)
        }
      }
      return calls
    }

    function fragmentCalls(name: string, root: GraphQLNamedType | undefined, visiting: Set<string>): number {
      const known = callsByFragment.get(name)
      if (known !== undefined) return known
      const fragment = context.getFragment(name)
      if (fragment === undefined || fragment === null || visiting.has(name)) return 0
      visiting.add(name)
      const calls = rootCalls(fragment.selectionSet, root, visiting)
      visiting.delete(name)
      callsByFragment.set(name, calls)
      return calls
    }

    return {
      OperationDefinition(operation) {
        const root = schema.getRootType(operation.operation) ?? undefined
        const calls = rootCalls(operation.selectionSet, root, new Set())
        if (calls <= options.maxCalls) return
        context.reportError(
          new GraphQLError(
            `This operation would make ${calls > 1_000_000 ? 'more than a million' : calls} calls to the services (at most ${options.maxCalls}); split it into several requests.`,
            { nodes: [operation as ASTNode], extensions: { code: 'GRAPHQL_TOO_MANY_CALLS' } }
          )
        )
      }
    }
  }
}
