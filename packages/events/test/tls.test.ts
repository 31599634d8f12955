// The services' Kafka client over TLS (what the chart turns on with Strimzi's TLS listener): a
// broker of the test's own with a TLS listener whose certificate is signed by a CA made here.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKafka, stopKafka } from '@polyshop/devstack'
import { freePort, testLogger } from '@polyshop/testkit'
import t from 'tap'
import { kafkaFromConfig } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'polyshop-kafka-tls-'))
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })

/** A CA, and a broker certificate for 127.0.0.1 signed by it; the broker's keystore is key + chain in one PEM file. */
function certificates(name: string): { ca: string; keystore: string } {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.crt`
  )
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    `${name}-broker.key`,
    '-out',
    `${name}-broker.csr`
  )
  writeFileSync(join(dir, `${name}-san.ext`), 'subjectAltName=IP:127.0.0.1\n')
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}-broker.csr`,
    '-CA',
    `${name}-ca.crt`,
    '-CAkey',
    `${name}-ca.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}-san.ext`,
    '-out',
    `${name}-broker.crt`
  )
  openssl('pkcs8', '-topk8', '-nocrypt', '-in', `${name}-broker.key`, '-out', `${name}-broker.pk8`)
  const keystore = join(dir, `${name}-keystore.pem`)
  writeFileSync(
    keystore,
    readFileSync(join(dir, `${name}-broker.pk8`), 'utf8') +
      readFileSync(join(dir, `${name}-broker.crt`), 'utf8') +
      readFileSync(join(dir, `${name}-ca.crt`), 'utf8')
  )
  return { ca: readFileSync(join(dir, `${name}-ca.crt`), 'utf8'), keystore }
}

const trusted = certificates('cluster')
const stranger = certificates('other')
const tlsPort = await freePort()
const brokerDir = join(dir, 'broker')
await startKafka({
  dir: brokerDir,
  port: await freePort(),
  controllerPort: await freePort(),
  tls: { port: tlsPort, keystore: trusted.keystore }
})
t.teardown(async () => {
  await stopKafka(brokerDir)
  rmSync(dir, { recursive: true, force: true })
})
const logger = testLogger().logger

t.test('with KAFKA_TLS_CA a service produces and consumes over TLS, the broker verified against that CA', async (t) => {
  const kafka = kafkaFromConfig('tls-test', { KAFKA_BROKERS: `127.0.0.1:${tlsPort}`, KAFKA_TLS_CA: trusted.ca }, logger)
  const admin = kafka.admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic: 'tls.events', numPartitions: 1 }], waitForLeaders: true })
  const producer = kafka.producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic: 'tls.events', messages: [{ key: 'k', value: 'over TLS' }] })
  const consumer = kafka.consumer({ groupId: 'tls-test' })
  await consumer.connect()
  t.teardown(() => consumer.disconnect())
  await consumer.subscribe({ topic: 'tls.events', fromBeginning: true })
  const received = await new Promise<string>((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') })
  })
  t.equal(received, 'over TLS')
})

t.test('a broker whose certificate another CA signed is refused: no connection, no data', async (t) => {
  const kafka = kafkaFromConfig('tls-test', { KAFKA_BROKERS: `127.0.0.1:${tlsPort}`, KAFKA_TLS_CA: stranger.ca }, logger)
  const admin = kafka.admin({ retry: { retries: 0 } })
  await t.rejects(admin.connect(), /certificate|self.signed|unable to verify|KafkaJSConnectionError|Connection error/i)
  await admin.disconnect()
})

t.test('without KAFKA_TLS_CA the TLS port is not spoken to in plain text', async (t) => {
  const kafka = kafkaFromConfig('tls-test', { KAFKA_BROKERS: `127.0.0.1:${tlsPort}` }, logger)
  const admin = kafka.admin({ retry: { retries: 0 } })
  await t.rejects(admin.connect())
  await admin.disconnect()
})

t.test('with KAFKA_TLS_CA_PATH the CAs are read again for each connection: a renewed CA is trusted without a restart', async (t) => {
  // A directory like a mounted Secret: at first it holds only a CA that did not sign the broker.
  const mounted = join(dir, 'cluster-ca-cert')
  mkdirSync(mounted)
  writeFileSync(join(mounted, 'ca.crt'), stranger.ca)
  const kafka = kafkaFromConfig('tls-test', { KAFKA_BROKERS: `127.0.0.1:${tlsPort}`, KAFKA_TLS_CA_PATH: mounted }, logger)
  const before = kafka.admin({ retry: { retries: 0 } })
  await t.rejects(before.connect(), /certificate|self.signed|unable to verify|KafkaJSConnectionError|Connection error/i, 'refused')
  await before.disconnect()
  // The operator renews the CA: the new certificate appears beside the old one.
  writeFileSync(join(mounted, 'ca-2026-12-05T00-00-00Z.crt'), trusted.ca)
  const after = kafka.admin({ retry: { retries: 0 } })
  await after.connect()
  t.teardown(() => after.disconnect())
  t.ok((await after.listTopics()).length >= 0, 'the same client connects once the file holds the broker’s CA')
  // A single PEM file works the same way.
  const file = kafkaFromConfig(
    'tls-test',
    { KAFKA_BROKERS: `127.0.0.1:${tlsPort}`, KAFKA_TLS_CA_PATH: join(mounted, 'ca-2026-12-05T00-00-00Z.crt') },
    logger
  )
  const single = file.admin({ retry: { retries: 0 } })
  await single.connect()
  await single.disconnect()
})
