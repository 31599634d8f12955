export { CHROMIUM_PATH, ensureChromium } from './browser.js'
export { runWhenMain } from './command.js'
export {
  COMPOSE_TEST_PROJECT_PREFIX,
  type ContainerTool,
  containerEnv,
  ensureContainerTools,
  imageExists,
  removeTestContainers
} from './containers.js'
export { ensureGoProgram, ensureGoTool, GO_TOOLS, type GoToolName, goModuleDir } from './go-tools.js'
export { type BuiltImage, buildImages, imageReference, imageServices, servicePorts } from './images.js'
export {
  DEFAULT_KAFKA_VERSION,
  ensureKafkaRuntime,
  ensureKafkaTools,
  ensureTopics,
  type KafkaOptions,
  startKafka,
  stopKafka,
  type TopicSpec,
  waitForKafka
} from './kafka.js'
export {
  type ControlPlaneBinaries,
  ETCD_VERSION,
  ensureControlPlane,
  ensureNodeBinaries,
  KUBERNETES_VERSION,
  KWOK_VERSION,
  kwokctlBinaryFlags,
  type NodeBinaries
} from './kubernetes.js'
export { ensureFerretDB, FERRETDB_PATCHES, FERRETDB_VERSION, type MongoOptions, startMongo, stopMongo, waitForMongo } from './mongo.js'
export { dockerfileNodeImage, ensureNodeBaseImage, type NodeBaseImage } from './node-image.js'
export { cacheDir, repoRoot, SERVICE_NODE_OPTIONS, stateDir } from './paths.js'
export { freePort } from './processes.js'
export {
  CLUSTER_DNS_IP,
  COREDNS_VERSION,
  ensureAddonImages,
  ensureRealNodeParts,
  KUBE_ROUTER_VERSION,
  machineAddress,
  NODE_NAME,
  type RealNode,
  type RealNodeOptions,
  removeRealNodes,
  startRealNode
} from './real-node.js'
export { ensureSchemathesis, SCHEMATHESIS_VERSION } from './schemathesis.js'
export { POLYSHOP_TOPICS, type StackEndpoints, type StackProfile, stackProfile, stackStatus, startStack, stopStack } from './stack.js'
export { composeImages, ensureStandInImages, type StandInImages } from './stand-in-images.js'
export { ensureStrimziCrds, findJava, STRIMZI_VERSION } from './strimzi.js'
export { MissingToolError } from './tools.js'
