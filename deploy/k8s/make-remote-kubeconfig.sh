#!/usr/bin/env bash
# Makes the kubeconfig with which the local cluster's fedview reads a REMOTE cluster, the way Calico's
# federation docs do it: after `kubectl apply -k deploy/k8s/remote` in the remote cluster, read the
# token that Kubernetes put into the ServiceAccount's token Secret, take the API server URL and CA
# from your own kubeconfig context for that cluster, and write a kubeconfig that authenticates with
# that token only. Uses kubectl; nothing is sent anywhere but to the remote cluster's API server.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: make-remote-kubeconfig.sh [options]

Writes a kubeconfig for fedview to read a remote cluster with the ServiceAccount that
deploy/k8s/remote creates there (read-only access to pods, namespaces, service accounts,
nodes, services, endpoints, and Calico host endpoints, IP pools and IPAM blocks).

Options:
  --context NAME            kubectl context of the remote cluster (default: the current context)
  --namespace NAME          namespace of the ServiceAccount (default: fedview)
  --service-account NAME    the ServiceAccount (default: fedview-remote)
  --secret NAME             its token Secret (default: <service-account>-token)
  --server URL              API server URL to write, when the local cluster reaches the remote
                            API server at another address (default: the context's server)
  --cluster-name NAME       name of the cluster and context in the kubeconfig
                            (default: the context's cluster name)
  --wait SECONDS            how long to wait for Kubernetes to fill in the token (default: 30)
  --verify                  list pods with the new kubeconfig before writing it out
  --as-secret NS/NAME       print a Secret manifest for an RCC's clusterAccessSecret (data keys
                            datastoreType=kubernetes and kubeconfig) instead of the bare kubeconfig
  --output FILE             write to FILE (mode 0600) instead of standard output
  -h, --help                show this help

Example:
  kubectl --context remote-a apply -k deploy/k8s/remote
  deploy/k8s/make-remote-kubeconfig.sh --context remote-a --verify \
      --as-secret fedview/remote-a-access --output remote-a-access.yaml
  kubectl --context local apply -f remote-a-access.yaml
USAGE
}

die() {
  echo "make-remote-kubeconfig: $*" >&2
  exit 1
}

context=""
namespace="fedview"
service_account="fedview-remote"
secret=""
server=""
cluster_name=""
wait_seconds=30
verify=false
as_secret=""
output=""

need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then
    echo "make-remote-kubeconfig: $1 needs a value (see --help)" >&2
    exit 2
  fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --context | --namespace | --service-account | --secret | --server | --cluster-name | --wait | --as-secret | --output)
      need_value "$@"
      case "$1" in
        --context) context=$2 ;;
        --namespace) namespace=$2 ;;
        --service-account) service_account=$2 ;;
        --secret) secret=$2 ;;
        --server) server=$2 ;;
        --cluster-name) cluster_name=$2 ;;
        --wait) wait_seconds=$2 ;;
        --as-secret) as_secret=$2 ;;
        --output) output=$2 ;;
      esac
      shift 2
      ;;
    --verify)
      verify=true
      shift
      ;;
    *)
      echo "make-remote-kubeconfig: unknown argument \"$1\" (see --help)" >&2
      exit 2
      ;;
  esac
done

case "$wait_seconds" in
  '' | *[!0-9]*)
    echo "make-remote-kubeconfig: --wait takes a whole number of seconds, not \"$wait_seconds\"" >&2
    exit 2
    ;;
esac
if [ -n "$as_secret" ] && ! [[ "$as_secret" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$ ]]; then
  echo "make-remote-kubeconfig: --as-secret takes NAMESPACE/NAME, e.g. fedview/remote-a-access, not \"$as_secret\"" >&2
  exit 2
fi
secret=${secret:-"$service_account-token"}

command -v kubectl >/dev/null 2>&1 || die "kubectl is not on PATH; install it, or run this where kubectl reaches the remote cluster"

if [ -z "$context" ]; then
  context=$(kubectl config current-context) || die "no --context given and kubectl has no current context"
fi
remote=(kubectl --context "$context")

# The remote API server and its CA as this context sees them (--flatten embeds a CA given as a file).
view() {
  kubectl config view --minify --flatten --context "$context" -o "jsonpath=$1"
}
context_server=$(view '{.clusters[0].cluster.server}') || die "cannot read context \"$context\" from your kubeconfig"
[ -n "$context_server" ] || die "context \"$context\" names no cluster server"
context_ca=$(view '{.clusters[0].cluster.certificate-authority-data}')
insecure=$(view '{.clusters[0].cluster.insecure-skip-tls-verify}')
server=${server:-$context_server}
if [ -z "$cluster_name" ]; then
  cluster_name=$(view '{.clusters[0].name}')
fi
[[ "$server" =~ ^https?://[^[:space:]\"\\]+$ ]] || die "\"$server\" is not an http(s) URL"
[[ "$cluster_name" =~ ^[A-Za-z0-9@._:-]+$ ]] || die "\"$cluster_name\" cannot be a kubeconfig name; pick one with --cluster-name"

# The Secret must be the token Secret of our ServiceAccount: anything else would hand out other rights.
meta=$("${remote[@]}" --namespace "$namespace" get secret "$secret" \
  -o 'jsonpath={.type}{"\t"}{.metadata.annotations.kubernetes\.io/service-account\.name}') ||
  die "cannot read Secret $namespace/$secret in context \"$context\"; apply deploy/k8s/remote there first"
secret_type=${meta%%$'\t'*}
secret_account=${meta#*$'\t'}
[ "$secret_type" = "kubernetes.io/service-account-token" ] ||
  die "Secret $namespace/$secret has type \"$secret_type\", not kubernetes.io/service-account-token"
[ "$secret_account" = "$service_account" ] ||
  die "Secret $namespace/$secret holds the token of ServiceAccount \"$secret_account\", not \"$service_account\""

# Kubernetes' token controller fills the Secret in shortly after it is created.
deadline=$((SECONDS + wait_seconds))
while :; do
  token_b64=$("${remote[@]}" --namespace "$namespace" get secret "$secret" -o 'jsonpath={.data.token}')
  [ -n "$token_b64" ] && break
  if [ "$SECONDS" -ge "$deadline" ]; then
    die "Secret $namespace/$secret has no token after ${wait_seconds}s: is the ServiceAccount $namespace/$service_account there, and does the cluster's token controller run?"
  fi
  sleep 1
done
token=$(printf '%s' "$token_b64" | base64 -d) || die "the token in Secret $namespace/$secret is not base64"
[[ "$token" =~ ^[A-Za-z0-9._~+/=-]+$ ]] || die "the token in Secret $namespace/$secret has unexpected characters"

# The CA the token controller recorded is the cluster's own; the context's CA is the fallback.
ca_b64=$("${remote[@]}" --namespace "$namespace" get secret "$secret" -o 'jsonpath={.data.ca\.crt}')
ca_b64=${ca_b64:-$context_ca}

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kubeconfig="$work/kubeconfig"
user="$service_account@$cluster_name"
{
  echo "apiVersion: v1"
  echo "kind: Config"
  echo "clusters:"
  echo "  - name: \"$cluster_name\""
  echo "    cluster:"
  echo "      server: \"$server\""
  if [ -n "$ca_b64" ]; then
    echo "      certificate-authority-data: \"$ca_b64\""
  elif [ "$insecure" = "true" ]; then
    echo "      insecure-skip-tls-verify: true"
  fi
  echo "users:"
  echo "  - name: \"$user\""
  echo "    user:"
  echo "      token: \"$token\""
  echo "contexts:"
  echo "  - name: \"$cluster_name\""
  echo "    context:"
  echo "      cluster: \"$cluster_name\""
  echo "      user: \"$user\""
  echo "current-context: \"$cluster_name\""
} >"$kubeconfig"

if [ "$verify" = true ]; then
  kubectl --kubeconfig "$kubeconfig" --request-timeout 15s get --raw "/api/v1/pods?limit=1" >/dev/null ||
    die "the new kubeconfig cannot list pods at $server: check the ClusterRoleBinding fedview-remote and --server"
  echo "make-remote-kubeconfig: verified: ServiceAccount $namespace/$service_account can list pods at $server" >&2
fi

result="$work/result"
if [ -n "$as_secret" ]; then
  kubectl create secret generic "${as_secret#*/}" --namespace "${as_secret%%/*}" --dry-run=client -o yaml \
    --from-literal=datastoreType=kubernetes --from-file=kubeconfig="$kubeconfig" >"$result"
else
  cp "$kubeconfig" "$result"
fi

if [ -n "$output" ]; then
  cp "$result" "$output"
  chmod 0600 "$output"
  echo "make-remote-kubeconfig: wrote $output" >&2
else
  cat "$result"
fi
