import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('..', import.meta.url))
const generated = join(root, 'packages/proto/src/gen')
// buf runs the local protoc-gen-es plugin from node_modules/.bin.
const env = { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` }

function buf(args: string[]): string {
  return execFileSync(join(root, 'node_modules/.bin/buf'), args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function files(dir: string): Map<string, string> {
  const found = new Map<string, string>()
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name)
      if (entry.isDirectory()) walk(path)
      else found.set(relative(dir, path), readFileSync(path, 'utf8'))
    }
  }
  walk(dir)
  return found
}

t.test('the protos pass buf lint (STANDARD)', async (t) => {
  t.equal(buf(['lint']), '')
})

t.test('the committed generated code is exactly what buf generate produces', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'polyshop-buf-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  buf(['generate', '--output', out])
  const fresh = files(join(out, 'packages/proto/src/gen'))
  const committed = files(generated)
  t.same([...committed.keys()].sort(), [...fresh.keys()].sort(), 'the same files (run `npm run generate`)')
  for (const [path, content] of fresh) {
    t.equal(committed.get(path), content, `${path} is up to date (run \`npm run generate\`)`)
  }
})

t.test('every service of the design is generated', async (t) => {
  const proto = await import('@polyshop/proto')
  t.same(Object.keys(proto.OrderService.method).sort(), ['cancelOrder', 'createOrder', 'getOrder', 'listOrders', 'updateOrderStatus'])
  t.same(Object.keys(proto.InventoryService.method).sort(), ['getProducts', 'releaseStock', 'reserveStock'])
  t.equal(proto.Health.typeName, 'grpc.health.v1.Health')
  t.equal(proto.OrderService.typeName, 'shop.order.v1.OrderService')
})
