# One image per service: docker build --build-arg SERVICE=gateway --build-arg "PORTS=8080 8081" -t polyshop/gateway .
# (skaffold.yaml builds all six; `npm run images` builds them with buildah, without Docker).
# Node 24 LTS; the service runs as the unprivileged `node` user with only its production
# dependencies and its bundle, by the same command the tests run:
# `node --enable-source-maps dist/server.js` in services/<name>.
#
# No `# syntax=` line: the builder's own Dockerfile frontend is enough, and a build that cannot
# reach a registry for a frontend image still works.
#
# Build arguments:
#   SERVICE   gateway, user, product, order, recommendation or notification (required)
#   PORTS     the ports the service listens on, for EXPOSE (required; the build says each
#             service's if it is missing; npm run images, skaffold and compose.yaml pass them)
#   VERSION, REVISION   the OCI labels' version and source revision
# A registry behind a TLS-intercepting proxy: pass its CA bundle as a build secret,
#   --secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt
# (used by `npm ci` only, never stored in a layer).
ARG NODE_IMAGE=node:24.11.1-bookworm-slim

# Fails at once, before the slow dependency install, when SERVICE or PORTS is not given.
FROM ${NODE_IMAGE} AS service-argument
ARG SERVICE
ARG PORTS
RUN if [ -z "${SERVICE}" ] || [ -z "${PORTS}" ]; then \
      echo 'polyshop: name the service to build and its ports (for EXPOSE), one of:' >&2; \
      echo '  --build-arg SERVICE=gateway --build-arg "PORTS=8080 8081"' >&2; \
      echo '  --build-arg SERVICE=user --build-arg PORTS=3001' >&2; \
      echo '  --build-arg SERVICE=product --build-arg "PORTS=3002 50052"' >&2; \
      echo '  --build-arg SERVICE=order --build-arg "PORTS=3003 50051"' >&2; \
      echo '  --build-arg SERVICE=recommendation --build-arg PORTS=3004' >&2; \
      echo '  --build-arg SERVICE=notification --build-arg PORTS=3005' >&2; \
      exit 1; \
    fi \
 && touch /service-named

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /src
# The same empty file for every service, so this stage stays shared by all six builds.
COPY --from=service-argument /service-named /tmp/
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
COPY chaos/package.json chaos/
RUN --mount=type=secret,id=npm-ca \
    if [ -f /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi \
 && npm ci --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force

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
COPY --from=dependencies /src/chaos chaos
# With workspaces, `npm ci --omit=dev --workspace X` still installs the dev dependencies of the
# workspace packages X depends on (testkit, kafkajs, mongodb, @types/… in the gateway): drop every
# devDependencies list first. Then drop the links to workspace packages (the bundle has polyshop's
# own code compiled in) and the .bin links: nothing in the image runs them.
RUN --mount=type=secret,id=npm-ca \
    if [ -f /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi \
 && node -e 'const fs = require("node:fs"); for (const file of process.argv.slice(1)) { const manifest = JSON.parse(fs.readFileSync(file, "utf8")); delete manifest.devDependencies; fs.writeFileSync(file, JSON.stringify(manifest)) }' \
      package.json packages/*/package.json services/*/package.json bench/package.json chaos/package.json \
 && npm ci --no-audit --no-fund --ignore-scripts --omit=dev --workspace "services/${SERVICE}" \
 && npm cache clean --force \
 && rm -rf node_modules/@polyshop node_modules/.bin node_modules/.package-lock.json "services/${SERVICE}/node_modules/.bin" \
 && find node_modules -name '*.map' -type f -delete \
 && mkdir -p "services/${SERVICE}/node_modules"

FROM ${NODE_IMAGE}
ARG SERVICE
ARG PORTS
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="polyshop ${SERVICE}" \
      org.opencontainers.image.description="polyshop's ${SERVICE} service" \
      org.opencontainers.image.source="https://github.com/polyshop/polyshop" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app/services/${SERVICE}
COPY --from=production-dependencies /src/node_modules /app/node_modules
COPY --from=production-dependencies /src/services/${SERVICE}/node_modules ./node_modules
COPY --from=build /src/services/${SERVICE}/package.json ./
COPY --from=build /src/services/${SERVICE}/dist ./dist
COPY --from=build /src/services/${SERVICE}/public ./public
# No behaviour depends on it (config is explicit); libraries read it to skip development aids.
ENV NODE_ENV=production
# V8 heap limits sized for a 256 MiB container (packages/devstack SERVICE_NODE_OPTIONS, which npm
# start, the tests and the benchmarks use too); the chart raises them where a service needs more.
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=128"
EXPOSE ${PORTS}
USER node
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz (and gRPC health) itself.
CMD ["node", "--enable-source-maps", "dist/server.js"]
