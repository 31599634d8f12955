import { loadConfig } from '@polyshop/config'
import { testDatabase, testLogger } from '@polyshop/testkit'
import type { FastifyInstance } from 'fastify'
import type { Db } from 'mongodb'
import type { Test } from 'tap'
import { buildApp } from '../src/app.js'
import { type UserConfig, UserConfigSchema } from '../src/config.js'
import { loadSigningKeys, type SigningKeys } from '../src/domain/signing-keys.js'

export interface Built {
  app: FastifyInstance
  db: Db
  config: UserConfig
  keys: SigningKeys
}

/**
 * The user service on a fresh database of the real MongoDB-wire server, exercised with
 * inject(). scrypt runs at cost 2^14 here (production: 2^17) so the suite stays quick;
 * one test checks the production cost separately.
 */
export async function build(t: Test, env: Record<string, string> = {}, keys?: SigningKeys): Promise<Built> {
  const { db } = await testDatabase(t, 'user')
  const config = loadConfig(UserConfigSchema, {
    MONGODB_URL: process.env.MONGODB_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    PASSWORD_HASH_COST: '14',
    RATE_LIMIT_PER_MINUTE: '1000',
    ...env
  })
  const signingKeys = keys ?? loadSigningKeys(undefined, undefined)
  const app = await buildApp({ config, db, keys: signingKeys, logger: testLogger().logger })
  t.teardown(() => app.close())
  return { app, db, config, keys: signingKeys }
}

export const PASSWORD = 'correct horse battery'

export async function register(app: FastifyInstance, email: string, extra: Record<string, unknown> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email, password: PASSWORD, name: 'Ada Lovelace', ...extra }
  })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  return res.json() as { user: { id: string; email: string }; accessToken: string; refreshToken: string; expiresIn: number }
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` }
}
