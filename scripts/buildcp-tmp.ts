import { ensureControlPlane } from '@polyshop/devstack'
const started = Date.now()
const bins = ensureControlPlane((line) => console.log(`${((Date.now() - started) / 1000).toFixed(0)}s ${line}`))
console.log(JSON.stringify(bins), `${((Date.now() - started) / 1000).toFixed(0)} s`)
