# tollgate: build with the dev dependencies, run with the production ones only, as a non-root user.
#   docker build -t tollgate .
#   docker run -p 8080:8080 -p 8081:8081 tollgate                       # embedded defaults
#   docker run -v $PWD/my.yaml:/etc/tollgate/tollgate.yaml tollgate serve --config /etc/tollgate/tollgate.yaml

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` compiles, and the sources are not here yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY config ./config
COPY pricing ./pricing
COPY ledger ./ledger
COPY billing ./billing
COPY proxy ./proxy
RUN npx tsc -p tsconfig.json

FROM node:24-slim
ENV NODE_ENV=production \
    TOLLGATE_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The ledger's Lua scripts are read from the source tree at run time (ledger/redis/scripts.ts).
COPY ledger/scripts ./ledger/scripts
COPY config.example.yaml ./
USER node
# A 32 MB young generation (Node 20's default: 16): at hundreds of concurrent requests fewer
# short-lived objects outlive a scavenge into the old space (bench: ~15% less CPU a request at
# 256 connections). Workers inherit it.
ENV NODE_OPTIONS=--max-semi-space-size=32
EXPOSE 8080 8081
# Liveness on the admin port (readiness, /readyz, is for load balancers: it fails while Redis is down).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.TOLLGATE_ADMIN_PORT||8081)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM reaches node directly (exec form): in-flight streams get shutdown.graceMs to finish.
ENTRYPOINT ["node", "dist/bin/tollgate.js"]
CMD ["serve"]
