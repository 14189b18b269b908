{{/*
Names, labels and shared pieces of the iot chart.
*/}}

{{/* Chart name (nameOverride aware). */}}
{{- define "iot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: the release name, or <release>-<chart> when it lacks the chart name. */}}
{{- define "iot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart label value */}}
{{- define "iot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object of ours. */}}
{{- define "iot.labels" -}}
helm.sh/chart: {{ include "iot.chart" . }}
app.kubernetes.io/name: {{ include "iot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: iot
{{- end }}

{{/*
Selector labels of one component. Call with (dict "root" $ "component" "consumer").
*/}}
{{- define "iot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "iot.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of one component: common labels plus its component. Same argument as iot.selectorLabels. */}}
{{- define "iot.componentLabels" -}}
{{ include "iot.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* ServiceAccount of the service pods. */}}
{{- define "iot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "iot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the Strimzi Kafka resource. */}}
{{- define "iot.kafkaName" -}}
{{- default (include "iot.fullname" .) .Values.kafka.name | trunc 50 | trimSuffix "-" }}
{{- end }}

{{/* Whether the services reach the chart's Kafka through the TLS listener with SCRAM users. */}}
{{- define "iot.kafkaScram" -}}
{{- if and .Values.kafka.create (eq .Values.kafka.security "scram-sha-512") }}true{{ end }}
{{- end }}

{{/* Port of the chart's Kafka listener: 9093 (TLS, SCRAM-SHA-512) or 9092 (plaintext). */}}
{{- define "iot.kafkaPort" -}}
{{- if include "iot.kafkaScram" . }}9093{{ else }}9092{{ end }}
{{- end }}

{{/* KAFKA_BROKERS: the Strimzi bootstrap service, or the external list. */}}
{{- define "iot.kafkaBrokers" -}}
{{- if .Values.kafka.create }}
{{- printf "%s-kafka-bootstrap:%s" (include "iot.kafkaName" .) (include "iot.kafkaPort" .) }}
{{- else }}
{{- .Values.kafka.externalBrokers }}
{{- end }}
{{- end }}

{{/* The KafkaUser (and its Secret) of a service. Call with (dict "root" $ "component" "producer"). */}}
{{- define "iot.kafkaUserName" -}}
{{- printf "%s-%s" (include "iot.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Environment of a service for the chart's Kafka with SCRAM: the user's password and the cluster CA
are mounted files (see iot.securityVolumes), so a rotated password is read at the next connection.
Call with (dict "root" $ "component" "producer").
*/}}
{{- define "iot.kafkaSecurityEnv" -}}
{{- if include "iot.kafkaScram" .root }}
- name: KAFKA_SECURITY_PROTOCOL
  value: SASL_SSL
- name: KAFKA_SASL_MECHANISM
  value: scram-sha-512
- name: KAFKA_SASL_USERNAME
  value: {{ include "iot.kafkaUserName" . | quote }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: /etc/iot/kafka-user/password
- name: KAFKA_TLS_CA_FILE
  value: /etc/iot/kafka-ca/ca.crt
{{- end }}
{{- if and (eq .component "consumer") .root.Values.postgresql.create }}
# CloudNativePG serves TLS with a certificate of its <cluster>-ca for <cluster>-rw.<namespace>,
# the host of the -app Secret's uri: verify-full.
- name: DATABASE_CA_FILE
  value: /etc/iot/postgres-ca/ca.crt
{{- end }}
{{- end }}

{{/* Mounts of the files iot.kafkaSecurityEnv names. Call like it. */}}
{{- define "iot.securityVolumeMounts" -}}
{{- if include "iot.kafkaScram" .root }}
- name: kafka-user
  mountPath: /etc/iot/kafka-user
  readOnly: true
- name: kafka-ca
  mountPath: /etc/iot/kafka-ca
  readOnly: true
{{- end }}
{{- if and (eq .component "consumer") .root.Values.postgresql.create }}
- name: postgres-ca
  mountPath: /etc/iot/postgres-ca
  readOnly: true
{{- end }}
{{- end }}

{{/*
Volumes of those files: only the keys named (never a CA's private key). The Secrets come from the
Strimzi user operator, the Strimzi cluster operator and CloudNativePG; the pod waits for them.
*/}}
{{- define "iot.securityVolumes" -}}
{{- if include "iot.kafkaScram" .root }}
- name: kafka-user
  secret:
    secretName: {{ include "iot.kafkaUserName" . | quote }}
    items:
      - { key: password, path: password }
- name: kafka-ca
  secret:
    secretName: {{ printf "%s-cluster-ca-cert" (include "iot.kafkaName" .root) | quote }}
    items:
      - { key: ca.crt, path: ca.crt }
{{- end }}
{{- if and (eq .component "consumer") .root.Values.postgresql.create }}
- name: postgres-ca
  secret:
    secretName: {{ printf "%s-ca" (include "iot.postgresqlName" .root) | quote }}
    items:
      - { key: ca.crt, path: ca.crt }
{{- end }}
{{- end }}

{{/* metadata.name of the KafkaTopic: the topic name made a valid Kubernetes name. */}}
{{- define "iot.kafkaTopicResourceName" -}}
{{- .Values.topic.name | lower | replace "_" "-" | trunc 63 | trimSuffix "-" | trimSuffix "." }}
{{- end }}

{{/* Name of the CloudNativePG Cluster. */}}
{{- define "iot.postgresqlName" -}}
{{- default (printf "%s-pg" (include "iot.fullname" .)) .Values.postgresql.name | trunc 50 | trimSuffix "-" }}
{{- end }}

{{/* Secret and key holding DATABASE_URL: the operator-generated <cluster>-app secret, or an existing one. */}}
{{- define "iot.databaseSecretName" -}}
{{- if .Values.postgresql.create }}
{{- printf "%s-app" (include "iot.postgresqlName" .) }}
{{- else }}
{{- .Values.postgresql.external.existingSecret }}
{{- end }}
{{- end }}

{{- define "iot.databaseSecretKey" -}}
{{- if .Values.postgresql.create }}uri{{ else }}{{ .Values.postgresql.external.secretKey }}{{ end }}
{{- end }}

{{/* Whether the operands Job has anything to create. */}}
{{- define "iot.operandsEnabled" -}}
{{- if or .Values.kafka.create .Values.postgresql.create }}true{{ end }}
{{- end }}

{{/*
Image of a service. Call with (dict "root" $ "image" .Values.consumer.image).
The tag defaults to the chart's appVersion.
*/}}
{{- define "iot.image" -}}
{{- $repo := .image.repository }}
{{- with .root.Values.image.registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" .) $repo }}{{ end }}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/*
An environment value as a string. YAML numbers arrive as float64: print whole numbers without an
exponent (604800000, not 6.048e+08).
*/}}
{{- define "iot.envValue" -}}
{{- if kindIs "float64" . }}
{{- if eq (float64 (int64 .)) . }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else }}
{{- . }}
{{- end }}
{{- end }}

{{/*
A service's env value as a string, or the service's own default when the value was removed
(templates/_settings.tpl). Call with (dict "root" $ "service" "consumer" "name" "KAFKA_GROUP_ID").
*/}}
{{- define "iot.setting" -}}
{{- $defaults := include "iot.settingDefaults" .root | fromJson }}
{{- $value := index (index .root.Values .service).env .name }}
{{- include "iot.envValue" (default (index $defaults .service .name) $value) }}
{{- end }}

{{/* Pod-level security context of every pod of ours (Pod Security Standards "restricted"). Pass the uid. */}}
{{- define "iot.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level security context of every container of ours, with a read-only root filesystem. */}}
{{- define "iot.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Pod annotations for Prometheus' kubernetes_sd "prometheus.io" convention, plus extra ones.
Call with (dict "root" $ "extra" .Values.consumer.podAnnotations).
*/}}
{{- define "iot.podAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: "8080"
prometheus.io/path: /metrics
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Probes on the operations endpoints (contract: /healthz liveness, /readyz readiness). */}}
{{- define "iot.probes" -}}
startupProbe:
  httpGet: { path: /healthz, port: http }
  periodSeconds: 2
  failureThreshold: {{ .Values.probes.startupFailureThreshold }}
livenessProbe:
  httpGet: { path: /healthz, port: http }
  periodSeconds: {{ .Values.probes.livenessPeriodSeconds }}
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: http }
  periodSeconds: {{ .Values.probes.readinessPeriodSeconds }}
  timeoutSeconds: 2
  failureThreshold: 2
{{- end }}

{{/*
A YAML scalar for operator configuration maps: whole numbers without an exponent, strings quoted,
booleans as they are.
*/}}
{{- define "iot.scalar" -}}
{{- if kindIs "string" . }}{{ quote . }}
{{- else if kindIs "float64" . }}{{ include "iot.envValue" . }}
{{- else }}{{ . }}
{{- end }}
{{- end }}

{{/* Whether KEDA reads consumer lag from the chart's SCRAM Kafka (a KafkaUser of its own). */}}
{{- define "iot.kedaKafkaUser" -}}
{{- $k := .Values.consumer.keda }}
{{- if and (include "iot.kafkaScram" .) $k.enabled (eq $k.trigger "kafka") }}true{{ end }}
{{- end }}
