import Type, { type Static, type TObject, type TSchema } from 'typebox'
import Value from 'typebox/value'

/**
 * Thrown when the environment does not satisfy a service's configuration schema. Its message
 * names every offending variable, so a misconfigured pod says exactly what to fix.
 */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`)
  }
}

export interface ConfigProblem {
  variable: string
  message: string
}

/**
 * Only values that cannot be secrets are echoed back: numbers, flags and choices from a fixed
 * list. A free-form string (a URL with credentials, a key, a password) never is.
 */
function echoable(schema: TSchema | undefined): boolean {
  const s = schema as { type?: unknown; anyOf?: unknown } | undefined
  return s?.type === 'integer' || s?.type === 'number' || s?.type === 'boolean' || Array.isArray(s?.anyOf)
}

/**
 * Reads the variables a schema declares from `env`, converts them (numbers, booleans),
 * fills defaults, and validates. Variables the schema does not declare are ignored; an empty
 * string counts as unset so `FOO=` falls back to the default.
 */
export function loadConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Readonly<Static<T>> {
  const raw: Record<string, string> = {}
  for (const name of Object.keys(schema.properties)) {
    const value = env[name]
    if (value !== undefined && value !== '') raw[name] = value
  }
  const converted = Value.Convert(schema, structuredClone(raw)) as Record<string, unknown>
  // Convert truncates "2.5" to 2 for an integer: a value not written as a whole number stays text and is refused.
  for (const [name, value] of Object.entries(raw)) {
    if ((schema.properties[name] as { type?: unknown }).type === 'integer' && !/^\s*[+-]?\d+\s*$/.test(value)) converted[name] = value
  }
  const candidate = Value.Default(schema, converted)
  if (Value.Check(schema, candidate)) {
    const conflicts = crossFieldProblems(candidate as Record<string, unknown>)
    if (conflicts.length > 0) throw new ConfigError(conflicts)
    return Object.freeze(candidate) as Readonly<Static<T>>
  }

  const problems: ConfigProblem[] = []
  for (const error of Value.Errors(schema, candidate)) {
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? []
      for (const variable of missing) {
        if (!(variable in raw)) problems.push({ variable, message: `is required but not set${expectation(schema.properties[variable])}` })
      }
      continue
    }
    const variable = error.instancePath.split('/')[1]
    if (variable === undefined || problems.some((p) => p.variable === variable)) continue
    const given = raw[variable]
    const shown = given === undefined || !echoable(schema.properties[variable]) ? '' : ` (got "${given}")`
    problems.push({ variable, message: `${error.message}${shown}${expectation(schema.properties[variable])}` })
  }
  throw new ConfigError(problems)
}

function expectation(schema: TSchema | undefined): string {
  const description = (schema as { description?: string } | undefined)?.description
  return description === undefined ? '' : `; expected ${description}`
}

/** Rules between variables that no one variable's schema can state. */
function crossFieldProblems(config: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  // A service token must never pass for a user's access token, nor the other way round.
  if (config.SERVICE_TOKEN_AUDIENCE !== undefined && config.SERVICE_TOKEN_AUDIENCE === config.JWT_AUDIENCE) {
    problems.push({
      variable: 'SERVICE_TOKEN_AUDIENCE',
      message: `must differ from JWT_AUDIENCE (both are "${String(config.JWT_AUDIENCE)}"), or service tokens would pass for users' tokens`
    })
  }
  return problems
}

/**
 * For a service entry point: a bad configuration stops the process with exit code 1 and the
 * message on stderr, before anything else starts.
 */
export function loadConfigOrExit<T extends TObject>(service: string, schema: T, env: NodeJS.ProcessEnv = process.env): Readonly<Static<T>> {
  try {
    return loadConfig(schema, env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${service}: ${error.message}\n`)
    process.exit(1)
  }
}

/** Building blocks for the variables DESIGN.md names, so every service spells them the same. */
export const env = {
  port: (fallback: number) => Type.Integer({ minimum: 1, maximum: 65_535, default: fallback, description: 'a TCP port (1-65535)' }),
  host: (fallback = '0.0.0.0') => Type.String({ minLength: 1, default: fallback, description: 'an address to listen on' }),
  mongoUrl: () => Type.String({ pattern: '^mongodb(\\+srv)?://[^\\s]+$', description: 'a mongodb:// or mongodb+srv:// connection string' }),
  kafkaBrokers: () =>
    Type.String({ pattern: '^[^\\s,:]+:[0-9]{1,5}(,[^\\s,:]+:[0-9]{1,5})*$', description: 'a comma-separated list of host:port' }),
  httpUrl: () => Type.String({ pattern: '^https?://[^\\s]+$', description: 'an http:// or https:// URL' }),
  logLevel: () =>
    Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      { default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' }
    ),
  /** Who may tell a service the client's address (X-Forwarded-For): rate limits count per client IP. */
  trustProxy: () =>
    Type.String({ default: 'false', description: '"false", "true", a hop count, or comma-separated addresses/CIDRs of trusted proxies' }),
  flag: (fallback: boolean) => Type.Boolean({ default: fallback, description: 'true or false' })
}

/**
 * The variables of every service that checks access tokens: who issues them, for whom, and
 * where its public keys are (the user service's JWKS). Spread into a service's schema.
 */
export const tokenVerificationVariables = {
  JWT_ISSUER: Type.String({ minLength: 1, default: 'polyshop-user', description: 'the iss claim of access tokens' }),
  JWT_AUDIENCE: Type.String({ minLength: 1, default: 'polyshop', description: 'the aud claim of access tokens' }),
  USER_SERVICE_WAIT_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 300,
    default: 30,
    description: 'seconds to keep trying the user service at start (its keys, revocations, this service’s token) before serving anyway'
  }),
  REVOCATION_POLL_INTERVAL_MS: Type.Integer({
    minimum: 100,
    maximum: 60_000,
    default: 1000,
    description: 'how often ended sessions are fetched from the user service, in ms (a revoked token stops working within about this)'
  }),
  SERVICE_TOKEN_AUDIENCE: Type.String({
    minLength: 1,
    default: 'polyshop-internal',
    description: "the aud claim of service tokens (a service's own credentials, never a user's)"
  }),
  USER_SERVICE_URL: Type.String({
    pattern: '^https?://[^\\s]+$',
    default: 'http://127.0.0.1:3001',
    description: 'the user service, whose JWKS verifies access tokens'
  })
}

/**
 * The variables of every service that talks to Kafka: where the brokers are and, when the
 * cluster requires it (Strimzi KafkaUsers with SCRAM-SHA-512), who the service is.
 */
export const kafkaVariables = {
  KAFKA_BROKERS: env.kafkaBrokers(),
  KAFKA_SASL_USERNAME: Type.Optional(Type.String({ minLength: 1, description: 'the SCRAM-SHA-512 user (unset: no authentication)' })),
  KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: "that user's password" })),
  KAFKA_TLS_CA: Type.Optional(
    Type.String({
      pattern: '-----BEGIN CERTIFICATE-----',
      description:
        "PEM CA certificate(s) of the brokers: set, the connection is TLS, verified against them (Strimzi: the cluster CA's ca.crt)"
    })
  ),
  KAFKA_TLS_CA_PATH: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "a PEM file, or a directory whose *.crt files are, the brokers' CA certificate(s): set, the connection is TLS, and the files are read again for every new connection (a mounted Secret that Strimzi renews is trusted without a restart)"
    })
  )
}

/** A service's MongoDB connection. */
export const mongoVariables = {
  MONGODB_URL: env.mongoUrl(),
  MONGODB_MAX_POOL_SIZE: Type.Integer({
    minimum: 1,
    maximum: 500,
    default: 10,
    description: 'the most connections to MongoDB this process opens (1-500); more than the database can work on at once only costs memory'
  })
}

/** The MongoClient options every service uses, from its mongoVariables. */
export function mongoClientOptions(config: { MONGODB_MAX_POOL_SIZE: number }): {
  serverSelectionTimeoutMS: number
  socketTimeoutMS: number
  maxPoolSize: number
} {
  // socketTimeoutMS: an operation whose connection stays silent for a minute fails instead of
  // waiting for ever (the driver's default): a server that went away mid-reply must not hang a
  // consumer's handler, and with it its partition, for good.
  return { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 60_000, maxPoolSize: config.MONGODB_MAX_POOL_SIZE }
}

/** The hardening switches of a GraphQL server (gateway, recommendation). */
export const graphqlVariables = {
  GRAPHQL_INTROSPECTION: Type.Boolean({ default: false, description: 'true or false: answer schema introspection queries' }),
  GRAPHQL_IDE: Type.Boolean({ default: false, description: 'true or false: serve GraphiQL at /graphiql' }),
  GRAPHQL_MAX_DEPTH: Type.Integer({ minimum: 2, maximum: 20, default: 8, description: 'the deepest selection a query may have (2-20)' }),
  GRAPHQL_JIT: Type.Integer({
    minimum: 0,
    maximum: 1000,
    default: 0,
    description: 'compile a query with graphql-jit once it has run this many times (0: never)'
  }),
  GRAPHQL_MAX_COST: Type.Integer({
    minimum: 10,
    maximum: 1_000_000,
    default: 5000,
    description: 'the largest estimated cost of one operation: fields times page sizes, 50 per top-level field'
  }),
  GRAPHQL_MAX_CALLS: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 10,
    description: 'the most calls to other services one operation may make: one per top-level field (aliases count), one per batched lookup'
  })
}

export { Type }
