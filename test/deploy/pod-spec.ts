import type { K8sObject } from './render.js'

export interface Container {
  name: string
  image: string
  command?: string[]
  args?: string[]
  ports?: Array<{ name?: string; containerPort: number }>
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>
  envFrom?: Array<{ configMapRef?: { name: string } }>
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } }
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
}

export interface Probe {
  httpGet?: { path: string; port: string | number }
  grpc?: { port: number }
  tcpSocket?: { port: string | number }
  exec?: { command: string[] }
}

export interface PodSpec {
  securityContext?: Record<string, unknown>
  containers: Container[]
  initContainers?: Container[]
  volumes?: Array<Record<string, unknown>>
  hostNetwork?: boolean
  hostPID?: boolean
  hostIPC?: boolean
  automountServiceAccountToken?: boolean
}

export interface Workload {
  object: K8sObject
  labels: Record<string, string>
  pod: PodSpec
}

/** Every object that runs pods, with its pod template. */
export function workloads(objects: K8sObject[]): Workload[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind))
    .map((object) => {
      const template = (object.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template
      return { object, labels: template.metadata.labels, pod: template.spec }
    })
}

export function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value)
}
