import { createEvent, type EventRecord, fromKafkaMessage } from '@polyshop/events'
import { consumeTopic, eventually, testDatabase, testKafka, testLogger, testTopics, uniqueName } from '@polyshop/testkit'
import type { Kafka } from 'kafkajs'
import type { Db } from 'mongodb'
import t, { type Test } from 'tap'
import { type OutboxFields, OutboxRelay, type OutboxRelayOptions, OutboxWriter, outboxForInsert } from '../src/index.js'

interface Account extends OutboxFields {
  _id: string
  name: string
  visits: number
}

/** Points an event at the test's own topic instead of the production one. */
function registered(userId: string, topic: string, traceparent?: string): EventRecord {
  const event = createEvent(
    'shop.user.registered.v1',
    { userId, email: `${userId}@example.com`, name: 'Ada' },
    {
      source: '/polyshop/user',
      key: userId,
      ...(traceparent === undefined ? {} : { traceparent })
    }
  )
  return { ...event, topic }
}

async function setUp(t: Test, relayOptions: Partial<OutboxRelayOptions> = {}) {
  const { db } = await testDatabase(t)
  const kafka = relayOptions.kafka ?? testKafka()
  const { events: topic } = (await testTopics(t, testKafka(), ['events'])) as { events: string }
  const log = testLogger()
  const relay = new OutboxRelay({ db, collection: 'accounts', kafka, logger: log.logger, pollIntervalMs: 50, ...relayOptions })
  await relay.ensureIndexes()
  t.teardown(() => relay.stop())
  const writer = new OutboxWriter<Account>({ db, collection: 'accounts', logger: log.logger, onCommit: () => relay.wake() })
  return { db, kafka, topic, relay, writer, lines: log.lines, accounts: db.collection<Account>('accounts') }
}

t.test('an event written with its aggregate is consumed with every CloudEvents header intact', async (t) => {
  const { kafka, topic, relay, writer, accounts } = await setUp(t, { pollIntervalMs: 5000 })
  relay.start()
  const received = await consumeTopic(t, kafka, topic)

  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  const event = registered('u-1', topic, traceparent)
  await writer.insertOne({ _id: 'u-1', name: 'Ada', visits: 0 }, [event])

  const [message] = await eventually(async () => (received.length > 0 ? received : undefined), 20_000, 'the event on Kafka')
  if (message === undefined) throw new Error('unreachable')
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))
  t.same(headers, {
    ce_specversion: '1.0',
    ce_id: event.id,
    ce_type: 'shop.user.registered.v1',
    ce_source: '/polyshop/user',
    ce_time: event.time,
    'content-type': 'application/json',
    traceparent
  })
  t.equal(String(message.key), 'u-1')
  const decoded = fromKafkaMessage(message)
  t.equal(decoded.id, event.id)
  t.match(decoded.data, { userId: 'u-1', email: 'u-1@example.com', name: 'Ada' })
  // Kafka has it before the relay records its progress.
  await eventually(async () => (relay.stats.published === 1 ? true : undefined), 10_000, 'progress recorded')
  const stored = await accounts.findOne({ _id: 'u-1' })
  t.equal(stored?.name, 'Ada', 'the aggregate is stored')
  t.same(
    stored?.outbox?.map((e) => e.id),
    [event.id],
    'and keeps its event history'
  )
})

t.test("each aggregate's events arrive in the order written, each exactly once", async (t) => {
  const { kafka, topic, relay, writer, accounts } = await setUp(t)
  relay.start()
  const received = await consumeTopic(t, kafka, topic)

  const ids = ['a', 'b', 'c']
  const written = new Map<string, string[]>(ids.map((id) => [id, []]))
  for (const id of ids) await writer.insertOne({ _id: id, name: id, visits: 0 }, [])
  // Writers keep appending while the relay publishes underneath them.
  for (let round = 0; round < 8; round++) {
    await Promise.all(
      ids.map(async (id) => {
        const event = registered(id, topic)
        written.get(id)?.push(event.id)
        await writer.updateOne({ _id: id }, { $inc: { visits: 1 } }, [event], id)
      })
    )
  }
  await eventually(async () => (received.length >= 24 ? true : undefined), 30_000, '24 events')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(received.length, 24, 'no duplicates')
  for (const id of ids) {
    const order = received.filter((m) => String(m.key) === id).map((m) => String(m.headers?.ce_id))
    t.same(order, written.get(id), `aggregate ${id} in write order`)
  }
  t.same(
    (await accounts.find().sort({ _id: 1 }).toArray()).map((a) => a.visits),
    [8, 8, 8],
    "the writers' own updates all applied"
  )
})

t.test('events appended while the relay publishes go out in the next round, after the first', async (t) => {
  const { db } = await testDatabase(t)
  const { events: topic } = (await testTopics(t, testKafka(), ['events'])) as { events: string }
  const kafka = testKafka()
  const { logger } = testLogger()
  const writer = new OutboxWriter<Account>({ db, collection: 'accounts', logger })
  const late = registered('u-9', topic)
  // A Kafka whose producer lets a writer commit another event between send and progress.
  let appended = false
  const racing = Object.create(kafka) as Kafka
  racing.producer = (config) => {
    const producer = kafka.producer(config)
    const send = producer.send.bind(producer)
    producer.send = async (record) => {
      const result = await send(record)
      if (!appended) {
        appended = true
        await writer.updateOne({ _id: 'u-9' }, {}, [late], 'u-9')
      }
      return result
    }
    return producer
  }
  const relay = new OutboxRelay({ db, collection: 'accounts', kafka: racing, logger })
  t.teardown(() => relay.stop())
  const received = await consumeTopic(t, kafka, topic)
  const first = registered('u-9', topic)
  await writer.insertOne({ _id: 'u-9', name: 'Grace', visits: 0 }, [first])

  t.equal(await relay.drain(), 2, 'two signals: the insert and the late update')
  await eventually(async () => (received.length >= 2 ? true : undefined), 20_000, 'both events')
  t.same(
    received.map((m) => String(m.headers?.ce_id)),
    [first.id, late.id]
  )
  t.equal(relay.stats.published, 2)
})

t.test('an outbox array rewritten under the relay is reported, and publication resumes after what was published', async (t) => {
  const { db, kafka, topic, relay, accounts, lines } = await setUp(t)
  const received = await consumeTopic(t, kafka, topic)
  const [first, second, third] = [registered('r', topic), registered('r', topic), registered('r', topic)]
  // As if a lost update replaced the array: progress names an event that is no longer in it.
  await accounts.insertOne({ _id: 'r', name: 'r', visits: 0, ...outboxForInsert([second, third]) })
  await db.collection('accounts_outbox_progress').insertOne({ _id: 'r' as never, published: 1, lastId: first.id })
  t.equal(await relay.publishAggregate('r'), 1, 'one event after the published count')
  await eventually(async () => (received.length >= 1 ? true : undefined), 20_000, 'the event')
  t.equal(String(received[0]?.headers?.ce_id), third.id)
  t.ok(
    lines.some(
      (line) => line.msg === 'the outbox array changed under the relay; resuming after the last published event where it can be found'
    ),
    'and the rewrite is logged'
  )
})

t.test('events whose signal was lost are found by reconciliation', async (t) => {
  const { kafka, topic, relay, accounts } = await setUp(t)
  const received = await consumeTopic(t, kafka, topic)
  // As if the writer died between its commit and its signal.
  const orphan = registered('orphan', topic)
  await accounts.insertOne({ _id: 'orphan', name: 'o', visits: 0, ...outboxForInsert([orphan]) })
  relay.start()
  await eventually(async () => (received.length >= 1 ? true : undefined), 20_000, 'the orphaned event')
  t.equal(String(received[0]?.headers?.ce_id), orphan.id)
  t.equal(relay.stats.reconciled, 1)
  t.equal(await relay.reconcile(), 0, 'a second pass finds nothing left to do')
})

/** A database whose scans of the aggregates wait until the test releases them. */
function heldScans(db: Db) {
  let release = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const state = { scans: 0, release: () => release() }
  const held = Object.create(db) as Db
  held.collection = ((name: string) => {
    const collection = db.collection(name)
    if (name !== 'accounts') return collection
    const slow = Object.create(collection) as typeof collection
    slow.find = ((...args: Parameters<typeof collection.find>) => {
      state.scans++
      const cursor = collection.find(...args)
      return Object.assign(Object.create(cursor), {
        async *[Symbol.asyncIterator]() {
          await gate
          yield* cursor
        }
      })
    }) as typeof collection.find
    return slow
  }) as Db['collection']
  return { held, state }
}

t.test('a slow reconciliation pass does not hold up fresh events', async (t) => {
  const { db } = await testDatabase(t)
  const { events: topic } = (await testTopics(t, testKafka(), ['events'])) as { events: string }
  const kafka = testKafka()
  const { logger } = testLogger()
  const { held, state } = heldScans(db)
  const relay = new OutboxRelay({ db: held, collection: 'accounts', kafka, logger, pollIntervalMs: 50 })
  t.teardown(() => {
    state.release()
    return relay.stop()
  })
  const writer = new OutboxWriter<Account>({ db, collection: 'accounts', logger, onCommit: () => relay.wake() })
  const received = await consumeTopic(t, kafka, topic)
  const orphan = registered('orphan', topic)
  await db.collection<Account>('accounts').insertOne({ _id: 'orphan', name: 'o', visits: 0, ...outboxForInsert([orphan]) })
  relay.start()
  await eventually(async () => (state.scans > 0 ? true : undefined), 10_000, 'the reconciliation pass under way')
  const fresh = registered('fresh', topic)
  await writer.insertOne({ _id: 'fresh', name: 'f', visits: 0 }, [fresh])
  await eventually(async () => (received.length >= 1 ? true : undefined), 20_000, 'the fresh event')
  t.same(
    received.map((m) => String(m.headers?.ce_id)),
    [fresh.id],
    'published while the pass waits'
  )
  state.release()
  await eventually(async () => (received.length >= 2 ? true : undefined), 20_000, 'the orphaned event')
  t.equal(String(received[1]?.headers?.ce_id), orphan.id, 'the orphan follows once the pass goes on')
  t.equal(relay.stats.reconciled, 1)
})

t.test('a reconciliation pass cut short by stop() moves no watermark, so the next pass covers it', async (t) => {
  const { db } = await testDatabase(t)
  const { events: topic } = (await testTopics(t, testKafka(), ['events'])) as { events: string }
  const { logger } = testLogger()
  const { held, state } = heldScans(db)
  const relay = new OutboxRelay({ db: held, collection: 'accounts', kafka: testKafka(), logger })
  await db
    .collection<Account>('accounts')
    .insertOne({ _id: 'orphan', name: 'o', visits: 0, ...outboxForInsert([registered('orphan', topic)]) })
  relay.start()
  await eventually(async () => (state.scans > 0 ? true : undefined), 10_000, 'the reconciliation pass under way')
  const stopped = relay.stop()
  state.release()
  await stopped
  t.equal(relay.stats.reconciled, 0, 'the pass stopped before it signalled anything')
  t.equal(await db.collection('accounts_outbox_meta').countDocuments(), 0, 'and left no watermark')
  const next = new OutboxRelay({ db, collection: 'accounts', kafka: testKafka(), logger })
  t.equal(await next.reconcile(), 1, 'the next pass finds the orphan')
})

t.test('one aggregate that cannot be published does not fail the rest of its batch, nor repeat them', async (t) => {
  const { db, kafka, topic, relay, writer, lines } = await setUp(t, { minBackoffMs: 50, maxBackoffMs: 200, sendRetries: 1 })
  const received = await consumeTopic(t, kafka, topic)
  const ids = ['ok-1', 'ok-2', 'stuck', 'ok-3', 'ok-4']
  for (const id of ids) {
    const event = registered(id, topic)
    // A topic that does not exist (auto-creation is off) makes this one fail.
    await writer.insertOne({ _id: id, name: id, visits: 0 }, [id === 'stuck' ? { ...event, topic: uniqueName('missing-topic') } : event])
  }
  t.equal(await relay.relayBatch(), 5, 'one bad aggregate is not a broker failure: the relay goes on without backing off')
  t.equal(relay.stats.failures, 1, 'it is counted')
  await eventually(async () => (received.length >= 4 ? true : undefined), 20_000, 'the four healthy aggregates')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.same(received.map((m) => String(m.key)).sort(), ['ok-1', 'ok-2', 'ok-3', 'ok-4'], 'each healthy event once, none of the stuck one')
  t.equal(relay.stats.published, 4)
  const signals = await db.collection<{ aggregateId: string; attempts: number }>('accounts_outbox_signals').find().toArray()
  t.same(
    signals.map((signal) => [signal.aggregateId, signal.attempts]),
    [['stuck', 1]],
    'only the stuck signal is kept, postponed'
  )

  // Claimed again with new work once its lease is over, it goes on its own: the batch goes out whole.
  await db.collection('accounts_outbox_signals').updateMany({}, { $set: { leaseUntil: null } })
  for (const id of ['ok-5', 'ok-6']) await writer.insertOne({ _id: id, name: id, visits: 0 }, [registered(id, topic)])
  const batchFailures = () => lines.filter((line) => line.msg === 'an outbox batch failed; publishing its aggregates one at a time').length
  const failedBatchesBefore = batchFailures()
  t.equal(await relay.relayBatch(), 3)
  await eventually(async () => (received.length >= 6 ? true : undefined), 20_000, 'the two new healthy aggregates')
  t.equal(batchFailures(), failedBatchesBefore, 'no batch failed because of the known-bad aggregate')
  t.same(
    (await db.collection<{ aggregateId: string; attempts: number }>('accounts_outbox_signals').find().toArray()).map((signal) => [
      signal.aggregateId,
      signal.attempts
    ]),
    [['stuck', 2]]
  )
})

t.test('an aggregate whose events cannot be published is retried, and does not hold up others', async (t) => {
  const { db, kafka, topic, relay, writer, lines } = await setUp(t, { minBackoffMs: 50, maxBackoffMs: 200, sendRetries: 1 })
  const received = await consumeTopic(t, kafka, topic)
  // A topic that does not exist (auto-creation is off) makes this aggregate fail.
  await writer.insertOne({ _id: 'stuck', name: 'x', visits: 0 }, [{ ...registered('stuck', topic), topic: uniqueName('missing-topic') }])
  await writer.insertOne({ _id: 'fine', name: 'y', visits: 0 }, [registered('fine', topic)])
  relay.start()
  await eventually(async () => (received.some((m) => String(m.key) === 'fine') ? true : undefined), 30_000, 'the healthy aggregate')
  // The healthy one can be out before the failed batch is counted.
  await eventually(async () => (relay.stats.failures >= 1 ? true : undefined), 10_000, 'the failure to be counted')
  t.ok(
    lines.some((line) => line.msg === 'outbox relay could not publish; will retry'),
    'and logged'
  )
  t.notOk(received.some((m) => String(m.key) === 'stuck'))
  // Kafka has it before the relay records its progress and drops the signal.
  const signals = db.collection('accounts_outbox_signals')
  await eventually(
    async () => ((await signals.countDocuments({ aggregateId: 'fine' })) === 0 ? true : undefined),
    10_000,
    'the signal to be done'
  )
  t.equal(await relay.publishAggregate('fine'), 0, 'nothing is published twice')
})

t.test('findOneAndUpdate commits state and events together; a write that matches nothing signals nothing', async (t) => {
  const { db, topic, relay, writer } = await setUp(t)
  const signals = db.collection('accounts_outbox_signals')
  await writer.insertOne({ _id: 'u-5', name: 'Lin', visits: 0 }, [])
  t.equal(await signals.countDocuments(), 0, 'an insert without events needs no signal')

  const missed = await writer.updateOne({ _id: 'nobody' }, { $inc: { visits: 1 } }, [registered('nobody', topic)], 'nobody')
  t.equal(missed.matchedCount, 0)
  t.equal(await signals.countDocuments(), 0, 'no signal for a write that changed nothing')

  const event = registered('u-5', topic)
  const updated = await writer.findOneAndUpdate({ _id: 'u-5' }, { $inc: { visits: 1 } }, [event])
  t.equal(updated?.visits, 1, 'returns the document after the update')
  t.same(
    updated?.outbox?.map((e) => e.id),
    [event.id],
    'with its event'
  )
  t.equal(await signals.countDocuments(), 1)
  t.equal(await relay.drain(), 1)
  t.equal(relay.stats.published, 1)
  t.equal(await signals.countDocuments(), 0, 'the signal is gone once published')
})

t.test('a backlog goes out in batches: every aggregate once, in order, one Kafka request per batch', async (t) => {
  // A Kafka whose producer counts its sends.
  const kafka = testKafka()
  let sends = 0
  const counting = Object.create(kafka) as Kafka
  counting.producer = (config) => {
    const producer = kafka.producer(config)
    const send = producer.send.bind(producer)
    producer.send = async (record) => {
      sends++
      return send(record)
    }
    return producer
  }
  const { topic, relay, writer } = await setUp(t, { batchSize: 10, kafka: counting })
  const received = await consumeTopic(t, kafka, topic)
  // Written while the relay is stopped: 25 aggregates, and a second event for three of them.
  const written = new Map<string, string[]>()
  for (let i = 0; i < 25; i++) {
    const id = `batch-${i}`
    const event = registered(id, topic)
    await writer.insertOne({ _id: id, name: `User ${i}`, visits: 0 }, [event])
    written.set(id, [event.id])
  }
  for (const id of ['batch-0', 'batch-7', 'batch-24']) {
    const event = registered(id, topic)
    await writer.updateOne({ _id: id }, { $inc: { visits: 1 } }, [event], id)
    written.get(id)?.push(event.id)
  }
  t.equal(await relay.relayBatch(), 10, 'ten signals in the first batch')
  t.equal(await relay.drain(), 18, 'the other eighteen in two more')
  t.equal(await relay.relayBatch(), 0, 'nothing left')
  t.equal(sends, 3, 'one Kafka request per batch')
  await eventually(async () => (received.length >= 28 ? true : undefined), 20_000, 'all 28 events')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(received.length, 28, 'no event twice')
  for (const [id, ids] of written) {
    t.same(
      received.filter((m) => String(m.key) === id).map((m) => String(m.headers?.ce_id)),
      ids,
      `${id}: its events in the order written`
    )
  }
  t.equal(relay.stats.published, 28)
})
