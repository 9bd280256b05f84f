# ChatHub: one image for every role (ROLE=api | chat | all, see README "Deploy").
#
#   docker build -t chathub:latest .
#
# Stages: build-base (Node + the toolchain native modules may need) → deps (all dependencies) →
# build (tsc + vite) ; prod-deps (production dependencies only, built on the same base so the
# native modules better-sqlite3 and @node-rs/argon2 match the runtime) → runtime (slim, no
# toolchain, no dev dependencies, runs as the unprivileged `node` user).
#
# The npm workspace packages/client (the published typed client) is not copied: the server
# neither builds nor runs it.

ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS build-base
# better-sqlite3 downloads a prebuilt binary when one matches; otherwise node-gyp compiles it.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app

FROM build-base AS deps
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json tsconfig.web.json vite.config.ts ./
COPY public ./public
COPY src ./src
RUN npm run build

FROM build-base AS prod-deps
COPY package.json package-lock.json ./
# --legacy-peer-deps: the one peer the server's dependencies ask for is TypeScript (tRPC's, for
# type checking), a 30 MB compiler the runtime never loads.
RUN npm ci --omit=dev --legacy-peer-deps --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data
WORKDIR /app
# package.json carries "type": "module" for dist/. Everything under /app stays owned by root:
# the process (user node) can read it but not change it.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
# 8080: ROLE=api and ROLE=all; 8081: ROLE=chat (PORT overrides either).
EXPOSE 8080 8081
# No curl in the slim image: Node asks /healthz on this process's own port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p=process.env.PORT||(process.env.ROLE==='chat'?8081:8080);fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; it drains and exits 0 (src/main.ts).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
