// polyshop devstack: `npm run stack -- start|stop|status [--profile local|test|bench|chaos]`
import { parseArgs } from 'node:util'
import { stackProfile, stackStatus, startStack, stopStack } from './stack.js'

const usage = 'usage: npm run stack -- <start|stop|status> [--profile local|test|bench|chaos]'

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { profile: { type: 'string', default: 'local' } } })
  const [command] = positionals
  if (values.profile !== 'local' && values.profile !== 'test' && values.profile !== 'bench' && values.profile !== 'chaos') {
    console.error(`unknown profile "${values.profile}"\n${usage}`)
    return 2
  }
  const profile = stackProfile(values.profile)
  switch (command) {
    case 'start': {
      const started = Date.now()
      const stack = await startStack(profile, (line) => console.log(line))
      console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`)
      console.log(`KAFKA_BROKERS=${stack.kafkaBrokers}`)
      console.log(`MONGODB_URL=${stack.mongodbUrl}`)
      console.log(`logs and data: ${profile.dir}`)
      return 0
    }
    case 'stop': {
      const stopped = await stopStack(profile)
      console.log(`kafka: ${stopped.kafka ? 'stopped' : 'was not running'}; mongo: ${stopped.mongo ? 'stopped' : 'was not running'}`)
      return 0
    }
    case 'status': {
      const status = stackStatus(profile)
      console.log(`profile ${status.profile} (${status.dir})`)
      console.log(
        `kafka ${status.kafka.version} at ${status.kafka.brokers}: ${status.kafka.pid === undefined ? 'stopped' : `running, pid ${status.kafka.pid}`}`
      )
      console.log(
        `${status.mongo.server} at ${status.mongo.url}: ${status.mongo.pid === undefined ? 'stopped' : `running, pid ${status.mongo.pid}`}`
      )
      return status.kafka.pid !== undefined && status.mongo.pid !== undefined ? 0 : 3
    }
    default:
      console.error(usage)
      return 2
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    // The message says what to do; the stack trace only helps when debugging devstack itself.
    console.error(`devstack: ${error instanceof Error ? error.message : String(error)}`)
    if (process.env.DEVSTACK_DEBUG === '1') console.error(error)
    process.exitCode = 1
  }
)
