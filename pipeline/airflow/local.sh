#!/usr/bin/env bash
# Usage: local.sh (what `make airflow` runs). Airflow for one machine, every server on
# 127.0.0.1: the api-server on AIRFLOW_PORT (8080), scheduler, dag-processor and triggerer,
# LocalExecutor on SQLite in $AIRFLOW_HOME; no log servers (tasks log to local files);
# schedules off unless ANGLER_SCHEDULE / ANGLER_MONITOR_SCHEDULE say otherwise.
set -euo pipefail

: "${AIRFLOW_HOME:?set AIRFLOW_HOME}"
port=${AIRFLOW_PORT:-8080}
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True # no login: loopback only
export AIRFLOW__API_AUTH__JWT_SECRET=${AIRFLOW__API_AUTH__JWT_SECRET:-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$port/execution/
export AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST=127.0.0.1
export AIRFLOW__API__HOST=127.0.0.1
# A try-out runs what you trigger, nothing on a schedule when a DAG is unpaused.
export ANGLER_SCHEDULE=${ANGLER_SCHEDULE:-none} ANGLER_MONITOR_SCHEDULE=${ANGLER_MONITOR_SCHEDULE:-none}

airflow db migrate >/dev/null
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
airflow api-server --host 127.0.0.1 --port "$port" & pids+=($!)
airflow scheduler --skip-serve-logs & pids+=($!)
airflow dag-processor & pids+=($!)
airflow triggerer --skip-serve-logs & pids+=($!)
echo "Airflow on http://127.0.0.1:$port (no login: reachable from this machine only)"
wait -n "${pids[@]}"
