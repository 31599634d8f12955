import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { containerEnv, imageExists } from './containers.js'
import { ensureGoProgram } from './go-tools.js'
import { ensureKafkaRuntime, ensureKafkaTools, KAFKA_LOG4J2 } from './kafka.js'
import { ensureFerretDB, FERRETDB_PATCHES, FERRETDB_VERSION } from './mongo.js'
import { dockerfileNodeImage, ensureNodeBaseImage } from './node-image.js'
import { repoRoot } from './paths.js'
import { runStep } from './tools.js'

export interface StandInImages {
  kafka: string
  mongodb: string
  mailpit: string
}

/** The image compose.yaml names for a service (its `image: ${VAR:-default}`), as a map of service → default. */
export function composeImages(): Record<string, string> {
  const text = readFileSync(join(repoRoot, 'compose.yaml'), 'utf8')
  return Object.fromEntries(
    [...text.matchAll(/^ {2}([a-z-]+):\n(?: {4}.*\n)*? {4}image: \$\{[A-Z_]+:-([^}]+)\}/gm)].map((m) => [m[1], m[2]])
  )
}

function version(image: string | undefined, what: string): string {
  const tag = image?.split(':').at(-1)
  if (tag === undefined) throw new Error(`compose.yaml names no image for ${what}`)
  return tag.replace(/^v/, '')
}

function build(reference: string, containerfile: string, context: string): void {
  writeFileSync(join(context, 'Containerfile'), containerfile)
  runStep(
    `building ${reference}`,
    'buildah',
    ['build', '--pull=never', '--layers', '--network=host', '--file', join(context, 'Containerfile'), '--tag', reference, context],
    {
      env: containerEnv()
    }
  )
}

/** The broker entrypoint: KAFKA_FOO_BAR=v becomes foo.bar=v (___ → -, __ → _), as in the official image. */
const KAFKA_ENTRYPOINT = `#!/bin/sh
set -eu
props=/var/lib/kafka/server.properties
: > "$props"
env | grep '^KAFKA_' | grep -v -e '^KAFKA_HEAP_OPTS=' -e '^KAFKA_OPTS=' -e '^KAFKA_JVM_PERFORMANCE_OPTS=' | while IFS='=' read -r name value; do
  key=$(printf '%s' "\${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
  printf '%s=%s\\n' "$key" "$value" >> "$props"
done
grep -q '^log.dirs=' "$props" || echo 'log.dirs=/var/lib/kafka/data' >> "$props"
jvm="\${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties"
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  java $jvm -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format -t "\${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$props"
fi
exec java $jvm -cp '/opt/kafka/libs/*' kafka.Kafka "$props"
`

const KAFKA_TOOL = (mainClass: string) => `#!/bin/sh
exec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp '/opt/kafka/tools-libs/*' ${mainClass} "$@"
`

function kafkaImage(base: string, kafkaVersion: string, reference: string): void {
  const context = mkdtempSync(join(tmpdir(), 'polyshop-kafka-image-'))
  try {
    cpSync(ensureKafkaRuntime(kafkaVersion), join(context, 'libs'), { recursive: true })
    cpSync(ensureKafkaTools(kafkaVersion), join(context, 'tools-libs'), { recursive: true })
    writeFileSync(join(context, 'entrypoint.sh'), KAFKA_ENTRYPOINT, { mode: 0o755 })
    writeFileSync(join(context, 'kafka-topics.sh'), KAFKA_TOOL('org.apache.kafka.tools.TopicCommand'), { mode: 0o755 })
    writeFileSync(join(context, 'log4j2.properties'), KAFKA_LOG4J2)
    build(
      reference,
      [
        `FROM ${base}`,
        // OpenJDK's post-install links its manual page into man1, which slim images leave out.
        'RUN mkdir -p /usr/share/man/man1 && apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/*',
        'COPY libs /opt/kafka/libs',
        'COPY tools-libs /opt/kafka/tools-libs',
        'COPY log4j2.properties /opt/kafka/config/',
        'COPY entrypoint.sh /opt/kafka/entrypoint.sh',
        'COPY kafka-topics.sh /opt/kafka/bin/',
        'RUN mkdir -p /var/lib/kafka/data && chown -R 1000:1000 /var/lib/kafka',
        `LABEL org.opencontainers.image.description="Apache Kafka ${kafkaVersion} (KRaft), standing in for apache/kafka:${kafkaVersion}"`,
        'USER 1000',
        'EXPOSE 9092 9093',
        'ENTRYPOINT ["/opt/kafka/entrypoint.sh"]',
        ''
      ].join('\n'),
      context
    )
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
}

function binaryImage(base: string, binary: string, reference: string, lines: string[]): void {
  const context = mkdtempSync(join(tmpdir(), 'polyshop-stand-in-'))
  try {
    copyFileSync(binary, join(context, 'program'))
    build(reference, [`FROM ${base}`, 'COPY program /usr/local/bin/program', ...lines, ''].join('\n'), context)
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
}

/**
 * Builds (once) the images standing in for compose.yaml's Kafka, MongoDB and Mailpit, tagged
 * localhost/polyshop-stand-in/<name>:<the official image's version>.
 */
export function ensureStandInImages(log: (line: string) => void = () => {}): StandInImages {
  const images = composeImages()
  const base = `docker.io/library/${dockerfileNodeImage().image}`
  ensureNodeBaseImage(log)
  const kafkaVersion = version(images.kafka, 'kafka')
  const mailpitVersion = version(images.mailpit, 'mailpit')
  const references = {
    kafka: `localhost/polyshop-stand-in/kafka:${kafkaVersion}`,
    mongodb: `localhost/polyshop-stand-in/ferretdb:${FERRETDB_VERSION}-${FERRETDB_PATCHES.suffix}`,
    mailpit: `localhost/polyshop-stand-in/mailpit:v${mailpitVersion}`
  }
  if (!imageExists(references.kafka)) {
    log(`building ${references.kafka} (Kafka from Maven Central, OpenJDK from Debian)`)
    kafkaImage(base, kafkaVersion, references.kafka)
  }
  if (!imageExists(references.mongodb)) {
    log(`building ${references.mongodb}`)
    binaryImage(base, ensureFerretDB(), references.mongodb, [
      'RUN mkdir -p /data/db && chown 1000:1000 /data/db',
      'USER 1000',
      'EXPOSE 27017',
      // mongod's own arguments (compose.yaml's --replSet rs0 --bind_ip_all) mean nothing to FerretDB: sh -c drops them.
      'ENTRYPOINT ["/bin/sh", "-c", "exec /usr/local/bin/program --listen-addr=:27017 --handler=sqlite --sqlite-url=file:/data/db/ --state-dir=/data/db --debug-addr=- --telemetry=disable --log-level=warn", "ferretdb"]'
    ])
  }
  if (!imageExists(references.mailpit)) {
    log(`building ${references.mailpit}`)
    binaryImage(base, ensureGoProgram('mailpit', 'github.com/axllent/mailpit', `v${mailpitVersion}`), references.mailpit, [
      'USER 1000',
      'EXPOSE 1025 8025',
      'ENTRYPOINT ["/usr/local/bin/program", "--disable-version-check"]'
    ])
  }
  return references
}
