// polyshop's `helm test`: through the gateway's Service, the gateway is ready (every service
// behind it reachable), the catalog answers over REST and GraphQL answers a query. Each check is
// retried for up to a minute, as a test right after an install may race the last rollout.
const gateway = process.env.GATEWAY_URL
const deadline = Date.now() + Number(process.env.SMOKE_TEST_TIMEOUT_MS ?? 60_000)

async function json(response) {
  const text = await response.text()
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`${response.status} with a body that is not JSON: ${text.slice(0, 200)}`)
  }
}

const checks = {
  'the gateway and every service behind it are ready': async () => {
    const response = await fetch(`${gateway}/readyz`)
    if (response.status !== 200) throw new Error(`/readyz answered ${response.status}: ${await response.text()}`)
  },
  'the catalog answers over REST': async () => {
    const response = await fetch(`${gateway}/api/v1/products?limit=1`)
    const body = await json(response)
    if (response.status !== 200 || !Array.isArray(body.items)) throw new Error(`/api/v1/products answered ${response.status}: ${JSON.stringify(body)}`)
  },
  'GraphQL answers a query': async () => {
    const response = await fetch(`${gateway}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ categories { id name productCount } }' })
    })
    const body = await json(response)
    if (response.status !== 200 || body.errors !== undefined || !Array.isArray(body.data?.categories)) {
      throw new Error(`/graphql answered ${response.status}: ${JSON.stringify(body)}`)
    }
  }
}

for (const [name, check] of Object.entries(checks)) {
  for (;;) {
    try {
      await check()
      console.log(`ok - ${name}`)
      break
    } catch (error) {
      if (Date.now() > deadline) {
        console.error(`not ok - ${name}: ${error.message}`)
        process.exit(1)
      }
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
  }
}
