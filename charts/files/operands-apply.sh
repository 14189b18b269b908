#!/usr/bin/env bash
# Applies the Kafka and PostgreSQL custom resources mounted in /operands, retrying until their
# operators accept them: on a fresh cluster the CloudNativePG CRDs and webhook arrive in the same
# `helm install` as this Job, and the webhook rejects a Cluster until it serves (sometimes after
# its Deployment reports ready). Server-side apply makes every run, including upgrades, idempotent.
# Env: NAMESPACE, TIMEOUT_S.
set -uo pipefail

args=()
for f in /operands/*.yaml; do args+=(-f "$f"); done
deadline=$((SECONDS + TIMEOUT_S))
attempt=1
while :; do
  echo "attempt ${attempt}: kubectl apply --server-side ${args[*]}"
  # A stale discovery cache would hide CRDs created since the last attempt.
  rm -rf "${HOME}/.kube/cache"
  if kubectl apply --namespace "$NAMESPACE" --server-side --field-manager=iot-chart \
    --force-conflicts "${args[@]}"; then
    echo "applied after ${SECONDS}s"
    break
  fi
  if ((SECONDS >= deadline)); then
    echo "giving up after ${TIMEOUT_S}s: the operators never accepted the resources above" >&2
    echo "check: kubectl get deploy,pods -n ${NAMESPACE}; kubectl get crd | grep -e strimzi -e cnpg" >&2
    exit 1
  fi
  echo "not accepted yet (CRDs not served yet or the CloudNativePG webhook not ready); retrying in 5s"
  attempt=$((attempt + 1))
  sleep 5
done
kubectl get --namespace "$NAMESPACE" "${args[@]}"
