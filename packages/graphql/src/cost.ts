import {
  type ASTNode,
  type FieldNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule
} from 'graphql'

/** The page-size arguments of polyshop's schemas: a field asked for with `first: 50` costs its children 50 times. */
const LIST_ARGUMENTS = new Set(['first', 'limit'])

/**
 * Refuses operations whose estimated work exceeds `maxCost`: every field costs 1, and the fields
 * under a field with a `first`/`limit` argument cost that many times over (a variable counts as
 * `assumedListSize`, the largest page the schema allows). Fragments are expanded where they are spread,
 * so aliases and fragments cannot multiply work past the limit unseen.
 */
export function maxCostRule(maxCost: number, assumedListSize = 100): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const cost = selectionCost(context, operation.selectionSet, 1, new Set())
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

  function multiplier(field: FieldNode): number {
    for (const argument of field.arguments ?? []) {
      if (!LIST_ARGUMENTS.has(argument.name.value)) continue
      if (argument.value.kind === Kind.INT) return Math.max(1, Number.parseInt(argument.value.value, 10))
      if (argument.value.kind === Kind.VARIABLE) return assumedListSize
    }
    return 1
  }

  function selectionCost(
    context: ValidationContext,
    selectionSet: SelectionSetNode | undefined,
    factor: number,
    seen: Set<string>
  ): number {
    if (selectionSet === undefined) return 0
    let cost = 0
    for (const selection of selectionSet.selections) {
      if (cost > maxCost) return cost
      if (selection.kind === Kind.FIELD) {
        cost += factor + selectionCost(context, selection.selectionSet, factor * multiplier(selection), seen)
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        cost += selectionCost(context, selection.selectionSet, factor, seen)
      } else {
        const name = selection.name.value
        // A cycle is already an error of its own (NoFragmentCycles); do not recurse forever.
        if (seen.has(name)) continue
        const fragment = context.getFragment(name)
        cost += selectionCost(context, fragment?.selectionSet, factor, new Set([...seen, name]))
      }
    }
    return cost
  }
}
