// Scenario 7's server: polyshop's connect-node gRPC server answering grpc.health.v1 Check.
import { createGrpcServer, healthService } from '@polyshop/grpc'
import { Health } from '@polyshop/proto'
import { pino } from 'pino'

const server = createGrpcServer({
  logger: pino({ level: 'silent' }),
  routes: (router) =>
    router.service(
      Health,
      healthService(['bench.v1.Bench'], async () => true)
    )
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  console.log(`listening ${typeof address === 'object' && address !== null ? address.port : 0}`)
})
