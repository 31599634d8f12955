# syntax=docker/dockerfile:1
# One image per service: docker build --build-arg SERVICE=gateway -t polyshop/gateway .
# (skaffold.yaml builds all six). Node 24 LTS; the service runs as the unprivileged `node` user
# with only its production dependencies and its bundle, by the same command the tests run:
# `node --enable-source-maps dist/server.js` in services/<name>.
ARG NODE_IMAGE=node:24.11.1-bookworm-slim

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /src
# Manifests first: this layer (the slow one) is rebuilt only when dependencies change.
COPY package.json package-lock.json ./
COPY packages/api/package.json packages/api/
COPY packages/auth/package.json packages/auth/
COPY packages/config/package.json packages/config/
COPY packages/devstack/package.json packages/devstack/
COPY packages/downstream/package.json packages/downstream/
COPY packages/events/package.json packages/events/
COPY packages/graphql/package.json packages/graphql/
COPY packages/grpc/package.json packages/grpc/
COPY packages/keyed-mutex/package.json packages/keyed-mutex/
COPY packages/lifecycle/package.json packages/lifecycle/
COPY packages/logger/package.json packages/logger/
COPY packages/metrics/package.json packages/metrics/
COPY packages/outbox/package.json packages/outbox/
COPY packages/problem/package.json packages/problem/
COPY packages/proto/package.json packages/proto/
COPY packages/testkit/package.json packages/testkit/
COPY services/gateway/package.json services/gateway/
COPY services/notification/package.json services/notification/
COPY services/order/package.json services/order/
COPY services/product/package.json services/product/
COPY services/recommendation/package.json services/recommendation/
COPY services/user/package.json services/user/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM dependencies AS build
ARG SERVICE
COPY tsconfig.base.json ./
COPY scripts/build.ts scripts/
COPY packages packages
COPY services/${SERVICE} services/${SERVICE}
RUN node_modules/.bin/tsx --conditions=@polyshop/source scripts/build.ts "${SERVICE}" \
 && mkdir -p "services/${SERVICE}/public"

FROM ${NODE_IMAGE} AS production-dependencies
ARG SERVICE
WORKDIR /src
COPY --from=dependencies /src/package.json /src/package-lock.json ./
COPY --from=dependencies /src/packages packages
COPY --from=dependencies /src/services services
COPY --from=dependencies /src/bench bench
RUN npm ci --no-audit --no-fund --ignore-scripts --omit=dev --workspace "services/${SERVICE}" \
 && mkdir -p "services/${SERVICE}/node_modules"

FROM ${NODE_IMAGE}
ARG SERVICE
WORKDIR /app/services/${SERVICE}
COPY --from=production-dependencies /src/node_modules /app/node_modules
COPY --from=production-dependencies /src/services/${SERVICE}/node_modules ./node_modules
COPY --from=build /src/services/${SERVICE}/package.json ./
COPY --from=build /src/services/${SERVICE}/dist ./dist
COPY --from=build /src/services/${SERVICE}/public ./public
# V8 heap limits sized for a 256 MiB container (packages/devstack SERVICE_NODE_OPTIONS, which npm
# start, the tests and the benchmarks use too); the chart raises them where a service needs more.
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=128"
USER node
CMD ["node", "--enable-source-maps", "dist/server.js"]
