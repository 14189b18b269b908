{{/*
Checks values that values.schema.json cannot relate to each other, and fails once with every
problem found, each naming the values involved. Rendered by templates/validate.yaml.
*/}}
{{- define "iot.validateValues" -}}
{{- $problems := list }}
{{- $v := .Values }}
{{- $partitions := int $v.topic.partitions }}

{{/* Consumers beyond the partition count stay idle: refuse them. */}}
{{- if and $v.consumer.autoscaling.enabled $v.consumer.keda.enabled }}
{{- $problems = append $problems "consumer.autoscaling.enabled and consumer.keda.enabled are both true: KEDA creates its own HorizontalPodAutoscaler; enable only one" }}
{{- end }}
{{- if $v.consumer.keda.enabled }}
{{- if gt (int $v.consumer.keda.maxReplicaCount) $partitions }}
{{- $problems = append $problems (printf "consumer.keda.maxReplicaCount (%d) exceeds topic.partitions (%d): consumers beyond the partition count get no partition and stay idle; lower consumer.keda.maxReplicaCount or raise topic.partitions" (int $v.consumer.keda.maxReplicaCount) $partitions) }}
{{- end }}
{{- if gt (int $v.consumer.keda.minReplicaCount) (int $v.consumer.keda.maxReplicaCount) }}
{{- $problems = append $problems (printf "consumer.keda.minReplicaCount (%d) exceeds consumer.keda.maxReplicaCount (%d)" (int $v.consumer.keda.minReplicaCount) (int $v.consumer.keda.maxReplicaCount)) }}
{{- end }}
{{- if and (eq $v.consumer.keda.trigger "prometheus") (not $v.consumer.keda.prometheus.serverAddress) }}
{{- $problems = append $problems "consumer.keda.trigger is prometheus but consumer.keda.prometheus.serverAddress is empty" }}
{{- end }}
{{- else if $v.consumer.autoscaling.enabled }}
{{- if gt (int $v.consumer.autoscaling.maxReplicas) $partitions }}
{{- $problems = append $problems (printf "consumer.autoscaling.maxReplicas (%d) exceeds topic.partitions (%d): consumers beyond the partition count get no partition and stay idle; lower consumer.autoscaling.maxReplicas or raise topic.partitions" (int $v.consumer.autoscaling.maxReplicas) $partitions) }}
{{- end }}
{{- if gt (int $v.consumer.autoscaling.minReplicas) (int $v.consumer.autoscaling.maxReplicas) }}
{{- $problems = append $problems (printf "consumer.autoscaling.minReplicas (%d) exceeds consumer.autoscaling.maxReplicas (%d)" (int $v.consumer.autoscaling.minReplicas) (int $v.consumer.autoscaling.maxReplicas)) }}
{{- end }}
{{- else if gt (int $v.consumer.replicaCount) $partitions }}
{{- $problems = append $problems (printf "consumer.replicaCount (%d) exceeds topic.partitions (%d): consumers beyond the partition count get no partition and stay idle; lower consumer.replicaCount or raise topic.partitions" (int $v.consumer.replicaCount) $partitions) }}
{{- end }}

{{/*
Graceful shutdown must finish inside the grace period. A value removed from env means the
service's own default (templates/_settings.tpl, written from the settings tables).
*/}}
{{- $defaults := include "iot.settingDefaults" . | fromJson }}
{{- range $component := include "iot.components" $ | fromJsonArray }}
{{- $cfg := index $v $component }}
{{- $shutdown := int (default (index $defaults $component "SHUTDOWN_TIMEOUT_S") $cfg.env.SHUTDOWN_TIMEOUT_S) }}
{{- if le (int $cfg.terminationGracePeriodSeconds) $shutdown }}
{{- $problems = append $problems (printf "%s.terminationGracePeriodSeconds (%d) must exceed %s.env.SHUTDOWN_TIMEOUT_S (%d), or Kubernetes kills the %s in the middle of its graceful shutdown" $component (int $cfg.terminationGracePeriodSeconds) $component $shutdown $component) }}
{{- end }}
{{- end }}
{{- $pool := int (default $defaults.consumer.DATABASE_POOL_SIZE $v.consumer.env.DATABASE_POOL_SIZE) }}
{{- $concurrency := int (default $defaults.consumer.CONSUMER_CONCURRENCY $v.consumer.env.CONSUMER_CONCURRENCY) }}
{{- if lt $pool $concurrency }}
{{- $problems = append $problems (printf "consumer.env.DATABASE_POOL_SIZE (%d) must be at least consumer.env.CONSUMER_CONCURRENCY (%d): each partition in flight holds one connection" $pool $concurrency) }}
{{- end }}

{{/* Where Kafka and PostgreSQL come from. */}}
{{- if and (not $v.kafka.create) (not $v.kafka.externalBrokers) }}
{{- $problems = append $problems "kafka.create is false but kafka.externalBrokers is empty: set the host:port list of your Kafka" }}
{{- end }}
{{- if and (not $v.postgresql.create) (not $v.postgresql.external.existingSecret) }}
{{- $problems = append $problems "postgresql.create is false but postgresql.external.existingSecret is empty: name the Secret that holds DATABASE_URL" }}
{{- end }}
{{- if and $v.api.enabled (not $v.postgresql.create) (not $v.api.database.existingSecret) }}
{{- $problems = append $problems (printf "postgresql.create is false but api.database.existingSecret is empty: name the Secret that holds the api's DATABASE_URL, as the read-only role %s (or set api.enabled=false)" $v.api.database.role) }}
{{- end }}
{{- if $v.api.enabled }}
{{- $interval := int (default $defaults.api.STREAM_INTERVAL_MS $v.api.env.STREAM_INTERVAL_MS) }}
{{- $poll := int (default $defaults.api.STREAM_POLL_INTERVAL_MS $v.api.env.STREAM_POLL_INTERVAL_MS) }}
{{- if lt $poll $interval }}
{{- $problems = append $problems (printf "api.env.STREAM_POLL_INTERVAL_MS (%d) must be at least api.env.STREAM_INTERVAL_MS (%d)" $poll $interval) }}
{{- end }}
{{- end }}

{{/* Kafka sizing. */}}
{{- if $v.kafka.create }}
{{- $brokers := 0 }}
{{- $controllers := 0 }}
{{- $poolNames := list }}
{{- range $v.kafka.nodePools }}
{{- if has "broker" .roles }}{{ $brokers = add $brokers .replicas }}{{ end }}
{{- if has "controller" .roles }}{{ $controllers = add $controllers .replicas }}{{ end }}
{{- if has .name $poolNames }}
{{- $problems = append $problems (printf "kafka.nodePools: the name %q is used twice" .name) }}
{{- end }}
{{- $poolNames = append $poolNames .name }}
{{- end }}
{{- if eq (int $brokers) 0 }}
{{- $problems = append $problems "kafka.nodePools has no replica with the broker role" }}
{{- end }}
{{- if eq (int $controllers) 0 }}
{{- $problems = append $problems "kafka.nodePools has no replica with the controller role (KRaft needs at least one)" }}
{{- end }}
{{- if gt (int $v.topic.replicas) (int $brokers) }}
{{- $problems = append $problems (printf "topic.replicas (%d) exceeds the brokers in kafka.nodePools (%d)" (int $v.topic.replicas) (int $brokers)) }}
{{- end }}
{{- if gt (int $v.kafka.replicationFactor) (int $brokers) }}
{{- $problems = append $problems (printf "kafka.replicationFactor (%d) exceeds the brokers in kafka.nodePools (%d)" (int $v.kafka.replicationFactor) (int $brokers)) }}
{{- end }}
{{- if gt (int $v.kafka.minInsyncReplicas) (int $v.kafka.replicationFactor) }}
{{- $problems = append $problems (printf "kafka.minInsyncReplicas (%d) exceeds kafka.replicationFactor (%d): every write would fail" (int $v.kafka.minInsyncReplicas) (int $v.kafka.replicationFactor)) }}
{{- end }}
{{- if gt (int $v.kafka.minInsyncReplicas) (int $v.topic.replicas) }}
{{- $problems = append $problems (printf "kafka.minInsyncReplicas (%d) exceeds topic.replicas (%d): every write to the topic would fail" (int $v.kafka.minInsyncReplicas) (int $v.topic.replicas)) }}
{{- end }}
{{- end }}

{{/* PostgreSQL sizing. */}}
{{- if and $v.postgresql.create $v.postgresql.synchronous }}
{{- $sync := int (default 0 $v.postgresql.synchronous.number) }}
{{- if ge $sync (int $v.postgresql.instances) }}
{{- $problems = append $problems (printf "postgresql.synchronous.number (%d) must be below postgresql.instances (%d): it counts standbys" $sync (int $v.postgresql.instances)) }}
{{- end }}
{{- end }}

{{/*
Settings the services do not have: a name that looks like one would silently do nothing. The
planted bugs of the fault-injection suite were once switched on by IOT_PLANTED_BUG; they no longer
exist in the images, and the name is refused so no one believes otherwise.
*/}}
{{- range $component := list "producer" "consumer" "api" }}
{{- range (index $v $component).extraEnv }}
{{- if or (eq .name "IOT_PLANTED_BUG") (eq .name "CHAOS_PLANTED_BUG") }}
{{- $problems = append $problems (printf "%s.extraEnv sets %s, a test-only name no image reads: remove it" $component .name) }}
{{- end }}
{{- end }}
{{- end }}

{{- if $problems }}
{{- fail (printf "\n\ninvalid values for the iot chart (%d problem(s)):\n  - %s\n" (len $problems) (join "\n  - " $problems)) }}
{{- end }}
{{- end }}
