# One image per function:  docker build --build-arg FUNCTION=plan -t <registry>/upshift/plan:<tag> .
# FUNCTION is one of plan, rollout, migrate-shard, verify. The build stage bundles that function
# (knative/build.ts: esbuild into dist/<fn>/, with only the packages OpenTelemetry must hook left in its
# node_modules); the runtime stage copies that folder alone and runs it as a non-root user on Node 24.
# knative/test/bundle.test.ts starts each bundle with exactly this ENTRYPOINT.

ARG NODE_IMAGE=node:24-alpine

FROM ${NODE_IMAGE} AS build
ARG FUNCTION
WORKDIR /src
COPY . .
# --ignore-scripts: nothing here needs an install script (esbuild's binary comes as an optional
# dependency). Call the image's node directly: node_modules/.bin/node (the `node` devDependency) is
# not installed without scripts.
RUN test -n "${FUNCTION}" || (echo "set --build-arg FUNCTION=<plan|rollout|migrate-shard|verify>" >&2; exit 1) \
 && npm ci --ignore-scripts --no-audit --no-fund \
 && node knative/build.ts --function "${FUNCTION}"

FROM ${NODE_IMAGE} AS runtime
ARG FUNCTION
ENV NODE_ENV=production \
    UPSHIFT_FUNCTION=${FUNCTION}
WORKDIR /app
COPY --from=build --chown=0:0 /src/dist/${FUNCTION}/ ./
# The node user of the official image; numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "--enable-source-maps", "--import", "./preload.mjs", "./entry.mjs", "./function.mjs"]
