# Conductor: multi-stage build. There is no Docker engine on the development
# machines, so this file runs the same commands as .ci/run and `npm start`.

FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates tini && rm -rf /var/lib/apt/lists/* \
  && useradd --create-home --uid 10001 conductor
WORKDIR /app
COPY --from=build --chown=conductor:conductor /app/node_modules ./node_modules
COPY --from=build --chown=conductor:conductor /app/dist ./dist
COPY --from=build --chown=conductor:conductor /app/prisma ./prisma
COPY --chown=conductor:conductor package.json ./
USER conductor
ENV NODE_ENV=production PORT=3000 CONDUCTOR_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 3000
# Migrations are applied by the app at start (advisory-locked; safe with several replicas).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
