// `npm run images [service…]`: builds the service images from the Dockerfile with buildah (no
// Docker engine needed; tools are installed from Debian when missing and this is root), making
// the Node base image locally if it is not there, and prints each image's size and build time.
//
//   npm run images                 all six, as localhost/polyshop/<service>:dev
//   npm run images -- gateway      one
//   POLYSHOP_IMAGE_REPOSITORY=registry.example.com/polyshop POLYSHOP_IMAGE_TAG=1.2.3 npm run images
import { type BuiltImage, buildImages, MissingToolError } from '@polyshop/devstack'

const MB = 1_000_000

export function imageTable(images: BuiltImage[]): string {
  const rows = images.map(
    (image) =>
      `| ${image.reference} | ${(image.size / MB).toFixed(0)} MB | ${(image.added / MB).toFixed(1)} MB | ${image.layers} | ${image.seconds.toFixed(1)} s |`
  )
  return ['| image | size | added to the Node base | layers | build time |', '|---|---|---|---|---|', ...rows].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now()
  try {
    const images = buildImages(process.argv.length > 2 ? process.argv.slice(2) : undefined, (line) => console.log(`  ${line}`))
    console.log(`\n${imageTable(images)}\n\nbuilt ${images.length} image(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } catch (error) {
    console.error(error instanceof MissingToolError || error instanceof Error ? error.message : error)
    process.exitCode = 1
  }
}
