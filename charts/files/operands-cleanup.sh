#!/usr/bin/env bash
# pre-delete hook of `helm uninstall`: runs while the operators still run.
#  - delete: the KafkaTopic first (the topic operator removes its finalizer), then the Kafka node
#    pools, Kafka and the PostgreSQL Cluster, waiting for each.
#  - retain: keep Kafka and PostgreSQL; remove the KafkaTopic's finalizer, since no topic operator
#    will be left to do it and it would hold the namespace in Terminating.
# Best effort: it never fails the uninstall, but says what it could not do.
# Env: NAMESPACE, TIMEOUT_S, ON_UNINSTALL, TOPIC (resource name or empty), OTHERS (resources).
set -uo pipefail

ns="$NAMESPACE"
strip_finalizers() {
  kubectl patch "$1" --namespace "$ns" --type=merge -p '{"metadata":{"finalizers":null}}' ||
    echo "WARNING: could not remove the finalizers of $1; if the namespace stays Terminating run:" \
      "kubectl patch -n ${ns} $1 --type=merge -p '{\"metadata\":{\"finalizers\":null}}'"
}

if [[ -n "${TOPIC:-}" ]] && kubectl get "$TOPIC" --namespace "$ns" >/dev/null 2>&1; then
  if [[ "$ON_UNINSTALL" == "retain" ]]; then
    echo "retain: keeping ${TOPIC}, removing its finalizer (its operator is about to go)"
    strip_finalizers "$TOPIC"
  else
    echo "deleting ${TOPIC} while the topic operator still runs"
    if ! kubectl delete "$TOPIC" --namespace "$ns" --timeout="${TIMEOUT_S}s"; then
      echo "the topic operator did not release ${TOPIC} within ${TIMEOUT_S}s; removing its finalizer"
      strip_finalizers "$TOPIC"
    fi
  fi
fi

if [[ "$ON_UNINSTALL" == "retain" ]]; then
  echo "retain: keeping ${OTHERS:-nothing}"
  exit 0
fi
for res in ${OTHERS:-}; do
  echo "deleting ${res}"
  kubectl delete "$res" --namespace "$ns" --ignore-not-found --timeout="${TIMEOUT_S}s" ||
    echo "WARNING: ${res} was not deleted within ${TIMEOUT_S}s; check: kubectl get -n ${ns} ${res} -o yaml"
done
exit 0
