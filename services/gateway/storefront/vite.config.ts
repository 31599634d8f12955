// The storefront's build: `npm run build` calls buildStorefront() (scripts/build.ts), which
// runs Vite with this file and writes services/gateway/public, the directory the gateway serves.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const here = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root: here,
  base: '/',
  // Preact through esbuild's automatic JSX runtime: no framework plugin needed.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../public', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // One small app: a single chunk keeps the first page to two requests.
    assetsInlineLimit: 0,
    reportCompressedSize: true
  },
  server: {
    // `npm run storefront:dev -w services/gateway` beside a running gateway (npm start).
    proxy: { '/graphql': 'http://127.0.0.1:8080' }
  }
})
