# room-orchestrator's container image. The build stage compiles the service
# to JavaScript (npm run build); the runtime stage holds dist/ (the compiled
# code, its migrations and the inspector page's sources) and production
# dependencies only, and runs it with the image's own Node as a non-root user.
#
#   docker build -t room-orchestrator .
#   docker run -p 8081:8081 -e AUTH=none room-orchestrator   # embedded database in the /data volume
#
# No authentication setting is baked in: on 0.0.0.0 the service refuses to
# start until one is given (AUTH_JWT_SECRET, AUTH_ISSUER, SERVICE_PASSWORD, or AUTH=none).

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: the npm package `node` would fetch a second
# Node (this image has one), and esbuild works without its own.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY machines machines
COPY migrations migrations
COPY src src
RUN npm run build

FROM node:24-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
RUN mkdir /data && chown node:node /data
USER node
ENV LISTEN_ADDRESS=0.0.0.0:8081 \
    DATA_DIR=/data
VOLUME /data
EXPOSE 8081
# The slim image has neither curl nor wget: Node's fetch asks the port LISTEN_ADDRESS names.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.LISTEN_ADDRESS ?? '').split(':').pop() + '/health_check').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
