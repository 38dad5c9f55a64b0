#!/bin/sh
# Entry point of the fedview image. With SERVICE set, runs that service:
#   SERVICE=query-service  ->  node services/query-service/dist/src/main.js
# Without SERVICE, runs its arguments as a command (e.g. `fedview status`, `calicoq eval 'all()'`).
set -eu

# The image keeps this script in <app>/deploy/docker; the workspaces are under <app>.
app_dir=$(cd "$(dirname "$0")/../.." && pwd)

available() {
  for main in "$app_dir"/services/*/dist/src/main.js; do
    [ -f "$main" ] || continue
    service_dir=${main%/dist/src/main.js}
    printf ' %s' "${service_dir##*/}"
  done
}

service=${SERVICE:-}
if [ -z "$service" ]; then
  if [ "$#" -gt 0 ]; then
    exec "$@"
  fi
  echo "fedview: set SERVICE to the service to run, one of:$(available)" >&2
  exit 64
fi

case "$service" in
  *[!a-z0-9-]* | -*)
    echo "fedview: SERVICE=\"$service\" is not a service name (lower-case letters, digits and -); one of:$(available)" >&2
    exit 64
    ;;
esac

main="$app_dir/services/$service/dist/src/main.js"
if [ ! -f "$main" ]; then
  echo "fedview: there is no service \"$service\" in this image; one of:$(available)" >&2
  exit 64
fi
if [ "$#" -gt 0 ]; then
  echo "fedview: SERVICE=$service takes no arguments (got: $*); configure it through its environment variables" >&2
  exit 64
fi
# exec: node becomes PID 1 and receives SIGTERM itself; every service stops cleanly on it.
exec node "$main"
