# kanshi collector image (docs/docker.md). Two stages: build with the compilers
# better-sqlite3 may need, run on the slim image with production modules only.
#   docker build -t kanshi-collector:0.1.0 .
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY agent ./agent
COPY collector ./collector
COPY common ./common
COPY protocol ./protocol
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/kanshi
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json package-lock.json ./
COPY bin ./bin
COPY alert-rules ./alert-rules
COPY examples ./examples
COPY docs ./docs
# The config lives in a volume (/etc/kanshi) so that `token add` can rewrite it;
# Docker fills a new, empty volume with this default.
COPY deploy/docker/collector.yaml /etc/kanshi/collector.yaml
RUN ln -s /opt/kanshi/bin/kanshi-collector.js /usr/local/bin/kanshi-collector \
 && mkdir -p /var/lib/kanshi/collector \
 && chown -R node:node /etc/kanshi /var/lib/kanshi
USER node
VOLUME ["/etc/kanshi", "/var/lib/kanshi"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains to InfluxDB for up to 30 s: give `docker stop` at least 40 s (compose: stop_grace_period).
ENTRYPOINT ["node", "/opt/kanshi/dist/collector/main.js"]
CMD ["--config", "/etc/kanshi/collector.yaml"]
