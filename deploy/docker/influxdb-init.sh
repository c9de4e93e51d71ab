#!/bin/bash
# Run once by the influxdb:2 image after DOCKER_INFLUXDB_INIT_MODE=setup made the
# org, the raw bucket (kanshi, 35 days) and the admin token: adds the rollup
# bucket, the log events' bucket (400 days) and the DBRP mappings that the InfluxQL dashboards and reports need
# (docs/configuration.md, Data lifecycle).
set -euo pipefail
org=$DOCKER_INFLUXDB_INIT_ORG
raw=$DOCKER_INFLUXDB_INIT_BUCKET
rollup_id=$(influx bucket create --org "$org" --name "${raw}_5m" --retention 730d --hide-headers | awk '{print $1}')
influx v1 dbrp create --org "$org" --db kanshi --rp kanshi_raw --bucket-id "$DOCKER_INFLUXDB_INIT_BUCKET_ID" --default
logs_id=$(influx bucket create --org "$org" --name "${raw}_logs" --retention 400d --hide-headers | awk '{print $1}')
influx v1 dbrp create --org "$org" --db kanshi --rp kanshi_5m --bucket-id "$rollup_id"
influx v1 dbrp create --org "$org" --db kanshi --rp kanshi_logs --bucket-id "$logs_id"
echo "kanshi: buckets ${raw}_5m ($rollup_id), ${raw}_logs ($logs_id) and DBRP mappings kanshi/kanshi_raw, kanshi/kanshi_5m, kanshi/kanshi_logs created"
