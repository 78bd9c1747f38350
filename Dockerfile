# syntax=docker/dockerfile:1
# Build stage: compile TypeScript, then keep production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --omit=optional

# Runtime stage: compiled code, production node_modules and default config, as a non-root user.
# The public listener (8080) serves the API and checkout pages; the ops listener (9464) serves
# /healthz, /readyz, /metrics and /docs: publish it to the operator's network only.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    SATWATCH_HTTP_HOST=0.0.0.0 \
    SATWATCH_HTTP_PORT=8080 \
    SATWATCH_OPS_HOST=0.0.0.0 \
    SATWATCH_OPS_PORT=9464
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
USER node
EXPOSE 8080 9464
# The ops listener runs in every mode (--watcher-only too), so the check works for all of them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SATWATCH_OPS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js", "serve"]
