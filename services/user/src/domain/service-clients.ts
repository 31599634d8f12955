import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { SERVICE_ROLE, serviceSubject } from '@polyshop/auth'
import { errors } from '../errors.js'
import { type SigningKeys, tokenSigner } from './signing-keys.js'

export interface ServiceToken {
  accessToken: string
  tokenType: 'Bearer'
  /** Seconds until it expires. */
  expiresIn: number
}

export interface ServiceClientsOptions {
  /** `name:secret` pairs, comma-separated (SERVICE_CLIENTS); unset or empty: no service may get a token. */
  clients: string | undefined
  keys: SigningKeys
  issuer: string
  audience: string
  ttlSeconds: number
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/** Parses SERVICE_CLIENTS; throws on a malformed entry or a name given twice. */
export function parseServiceClients(value: string | undefined): Map<string, Buffer> {
  const clients = new Map<string, Buffer>()
  for (const entry of (value ?? '').split(',').map((part) => part.trim())) {
    if (entry === '') continue
    const colon = entry.indexOf(':')
    const name = entry.slice(0, colon)
    if (colon <= 0 || entry.length - colon - 1 < 24)
      throw new Error('SERVICE_CLIENTS: each entry is name:secret, the secret at least 24 characters')
    if (clients.has(name)) throw new Error(`SERVICE_CLIENTS: ${name} is given twice`)
    clients.set(name, digest(entry.slice(colon + 1)))
  }
  return clients
}

/**
 * Client credentials for polyshop's own services: a service that presents its name and secret
 * gets a short-lived token (sub `service:<name>`, role `service`, the internal audience), signed
 * by the same key as access tokens and checked by the same verifier. A customer's access token
 * has another audience and role, so it never passes where a service token is required.
 */
export class ServiceClients {
  readonly #clients: Map<string, Buffer>
  readonly #sign: (payload: Record<string, unknown>) => string
  readonly #ttlSeconds: number

  constructor(options: ServiceClientsOptions) {
    this.#clients = parseServiceClients(options.clients)
    this.#ttlSeconds = options.ttlSeconds
    this.#sign = tokenSigner(options.keys, { issuer: options.issuer, audience: options.audience, ttlSeconds: options.ttlSeconds })
  }

  get names(): string[] {
    return [...this.#clients.keys()]
  }

  issue(clientId: string, clientSecret: string): ServiceToken {
    const expected = this.#clients.get(clientId)
    // Digests of equal length, compared in constant time; an unknown name does the same work.
    const matches = timingSafeEqual(expected ?? digest(''), digest(clientSecret)) && expected !== undefined
    if (!matches) throw errors.INVALID_CLIENT('The client id or secret is wrong.')
    return {
      accessToken: this.#sign({ sub: serviceSubject(clientId), roles: [SERVICE_ROLE], jti: randomUUID() }),
      tokenType: 'Bearer',
      expiresIn: this.#ttlSeconds
    }
  }
}
