# One image per function:  docker build --build-arg FUNCTION=plan -t <registry>/upshift/plan:<tag> .
# FUNCTION is one of plan, rollout, migrate-shard, verify, or dashboard (the web dashboard of
# knative/dashboard/). The build stage bundles it (knative/build.ts: esbuild into dist/<name>/, with only
# the packages left external in its node_modules, and a start.sh saying how node runs that bundle); the
# runtime stage copies that folder alone and runs its start.sh as a non-root user on Node 24.
# knative/test/bundle.test.ts and dashboard-bundle.test.ts start each bundle with exactly this ENTRYPOINT.

ARG NODE_IMAGE=node:24-alpine

FROM ${NODE_IMAGE} AS build
ARG FUNCTION
WORKDIR /src
COPY . .
# --ignore-scripts: nothing here needs an install script (esbuild's binary comes as an optional
# dependency). Call the image's node directly: node_modules/.bin/node (the `node` devDependency) is
# not installed without scripts.
RUN test -n "${FUNCTION}" || (echo "set --build-arg FUNCTION=<plan|rollout|migrate-shard|verify|dashboard>" >&2; exit 1) \
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
# The functions listen on 8080 ($PORT); the dashboard on the --port its Deployment passes (8090).
EXPOSE 8080 8090
# start.sh (written by the build) execs node, so node gets the signals; the container's args follow it
# (the dashboard's Deployment passes `dashboard --host 0.0.0.0 --port 8090`).
ENTRYPOINT ["/bin/sh", "./start.sh"]
