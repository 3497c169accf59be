# presswork serve: the subscription service (subscribe, confirm, one-click
# unsubscribe, the subscriber API) in a container. Node 20 slim, runs as the
# image's unprivileged `node` user, with a health check on /healthz.
#
#   docker build -t presswork .
#   docker run -p 8787:8787 -v presswork-data:/srv/presswork/data \
#     -e PRESSWORK_SECRET=… -e SMTP_URL=… -e PRESSWORK_API_TOKEN=… presswork
#
# The project (presswork.config.yaml, templates/) is copied into
# /srv/presswork; mount your own over it. The SQLite list lives on the
# /srv/presswork/data volume unless DATABASE_URL names a PostgreSQL server.

FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native part when no prebuilt one can be fetched.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY bin ./bin
# npm ci runs `prepare`: TypeScript to lib/ and the bundle in lib/bundle/.
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund \
  && node bin/presswork.js serve --help > /dev/null

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
COPY --from=build /app/bin ./bin
WORKDIR /srv/presswork
COPY presswork.config.yaml ./
COPY templates ./templates
RUN mkdir -p data outbox && chown node:node data outbox
USER node
VOLUME ["/srv/presswork/data"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8787/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself, so the requests in flight finish before it exits.
# The heap capped: the service lives on 30-40 MB of it, and V8 left to itself lets garbage take it past 100 MB
# while a backlog of mail goes out (the process at 240 MB instead of 140; node bench/serve.js).
CMD ["node", "--max-old-space-size=128", "--max-semi-space-size=4", "/app/bin/presswork.js", "serve", "--host", "0.0.0.0", "--port", "8787"]
