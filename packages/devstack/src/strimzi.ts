// The Strimzi custom resource definitions the chart's Kafka objects are checked against,
// generated from Strimzi's own model classes on Maven Central (io.strimzi:api and
// io.strimzi:crd-generator, the release the chart targets) with Strimzi's generator: the same
// files Strimzi publishes, byte for byte, without fetching anything but Maven artifacts. The
// generator needs Java 21+; cached in ~/.cache/polyshop/strimzi-<version>/crds.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ensureMavenJars } from './maven.js'
import { cacheDir } from './paths.js'
import { MissingToolError, probeTool, runStep } from './tools.js'

export const STRIMZI_VERSION = '1.2.0'

/** Each CRD file Strimzi publishes and the model class it is generated from. */
const STRIMZI_CRDS: Record<string, string> = {
  '040-Crd-kafka.yaml': 'io.strimzi.api.kafka.model.kafka.Kafka',
  '043-Crd-kafkatopic.yaml': 'io.strimzi.api.kafka.model.topic.KafkaTopic',
  '044-Crd-kafkauser.yaml': 'io.strimzi.api.kafka.model.user.KafkaUser',
  '045-Crd-kafkanodepool.yaml': 'io.strimzi.api.kafka.model.nodepool.KafkaNodePool'
}

function javaMajor(java: string): number {
  const out = probeTool(java, ['-version'])
  const match = out === undefined ? null : /version "(\d+)/.exec(out)
  return match === null ? 0 : Number(match[1])
}

/** A Java 21+ launcher: $STRIMZI_JAVA_HOME, $JAVA_HOME, `java` on PATH, or any JDK under /usr/lib/jvm. */
export function findJava(minimumMajor = 21): string {
  const candidates = [
    process.env.STRIMZI_JAVA_HOME,
    process.env.JAVA_HOME,
    ...(existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm').map((dir) => join('/usr/lib/jvm', dir)) : [])
  ]
    .filter((home): home is string => home !== undefined && home !== '')
    .map((home) => join(home, 'bin', 'java'))
  for (const java of [...candidates, 'java']) {
    if ((java === 'java' || existsSync(java)) && javaMajor(java) >= minimumMajor) return java
  }
  throw new MissingToolError(
    `Strimzi's CRD generator needs Java ${minimumMajor}+, and none was found (JAVA_HOME, java on PATH, /usr/lib/jvm/*). Install a JDK ${minimumMajor} or newer (for example Temurin) and set STRIMZI_JAVA_HOME or JAVA_HOME to it.`
  )
}

/** The directory holding the Strimzi CRDs (040-Crd-kafka.yaml, …), generated once. */
export function ensureStrimziCrds(log: (line: string) => void = () => {}): string {
  const root = join(cacheDir(), `strimzi-${STRIMZI_VERSION}`)
  const crds = join(root, 'crds')
  if (Object.keys(STRIMZI_CRDS).every((file) => existsSync(join(crds, file)))) return crds
  const java = findJava(21)
  log(`generating the Strimzi ${STRIMZI_VERSION} CRDs from Maven Central's io.strimzi:api (once)`)
  const libs = ensureMavenJars(
    join(root, 'libs'),
    `api-${STRIMZI_VERSION}.jar`,
    [
      ['io.strimzi', 'crd-generator', STRIMZI_VERSION],
      ['io.strimzi', 'api', STRIMZI_VERSION]
    ],
    `io.strimzi:api and io.strimzi:crd-generator ${STRIMZI_VERSION}`
  )
  const work = join(root, `generate-${process.pid}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(join(work, 'crds'), { recursive: true })
  try {
    // The options Strimzi's own build uses for its install files (labels included).
    runStep(
      `generating the Strimzi ${STRIMZI_VERSION} CRDs`,
      java,
      [
        '-cp',
        `${libs}/*`,
        'io.strimzi.crdgenerator.CrdGenerator',
        '--yaml',
        '--label',
        'app:strimzi',
        '--label',
        'strimzi.io/crd-install:true',
        '--crd-api-version',
        'v1',
        '--api-versions',
        'v1',
        '--storage-version',
        'v1',
        ...Object.entries(STRIMZI_CRDS).map(([file, model]) => `${model}=${join(work, 'crds', file)}`)
      ],
      { cwd: work }
    )
    for (const file of Object.keys(STRIMZI_CRDS)) {
      if (!readFileSync(join(work, 'crds', file), 'utf8').includes('kind: CustomResourceDefinition')) {
        throw new Error(`the Strimzi generator wrote no CRD into ${file}`)
      }
    }
    rmSync(crds, { recursive: true, force: true })
    renameSync(join(work, 'crds'), crds)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return crds
}
