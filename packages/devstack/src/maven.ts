import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requireMaven, runStep } from './tools.js'

/** One Maven artifact: groupId, artifactId, version. */
export type MavenArtifact = [group: string, artifact: string, version: string]

/**
 * The jars of `artifacts` and their runtime dependencies, resolved from Maven Central once into
 * `libs` (published whole, so an interrupted or concurrent run never sees half a directory).
 * `done` names a jar whose presence means the folder is complete.
 */
export function ensureMavenJars(libs: string, done: string, artifacts: MavenArtifact[], description: string): string {
  if (existsSync(join(libs, done))) return libs
  requireMaven()
  const work = `${libs}.download-${process.pid}`
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  try {
    const dependencies = artifacts.map(
      ([group, artifact, version]) =>
        `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency>`
    )
    writeFileSync(
      join(work, 'pom.xml'),
      [
        '<project xmlns="http://maven.apache.org/POM/4.0.0">',
        '  <modelVersion>4.0.0</modelVersion>',
        '  <groupId>dev.polyshop.devstack</groupId>',
        '  <artifactId>jars</artifactId>',
        '  <version>1</version>',
        '  <packaging>pom</packaging>',
        '  <dependencies>',
        ...dependencies,
        '  </dependencies>',
        '</project>',
        ''
      ].join('\n')
    )
    runStep(
      `fetching ${description} from Maven Central`,
      'mvn',
      ['-B', '-q', 'dependency:copy-dependencies', `-DoutputDirectory=${join(work, 'libs')}`, '-DincludeScope=runtime'],
      { cwd: work }
    )
    mkdirSync(join(libs, '..'), { recursive: true })
    rmSync(libs, { recursive: true, force: true })
    renameSync(join(work, 'libs'), libs)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return libs
}
