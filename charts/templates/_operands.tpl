{{/*
The custom resources the operands Job applies (see operands.yaml and README.md, "Install
ordering"). They are not Helm-managed objects: Helm could not resolve their kinds on a fresh
cluster, because the CloudNativePG CRDs arrive in the same release.
*/}}

{{/*
Labels on every custom resource of ours. Not "managed-by: Helm": the operands Job applies them.
*/}}
{{- define "iot.operandLabels" -}}
helm.sh/chart: {{ include "iot.chart" .root }}
app.kubernetes.io/name: {{ include "iot.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ include "iot.fullname" .root }}-operands
app.kubernetes.io/part-of: iot
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* KafkaNodePools and the Kafka cluster, KRaft mode. */}}
{{- define "iot.operands.kafka" -}}
{{- $kafkaName := include "iot.kafkaName" . }}
{{- $k := .Values.kafka }}
{{- range $k.nodePools }}
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaNodePool
metadata:
  name: {{ .name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    strimzi.io/cluster: {{ $kafkaName }}
    {{- include "iot.operandLabels" (dict "root" $ "component" "kafka") | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  roles:
    {{- toYaml .roles | nindent 4 }}
  storage:
    {{- toYaml .storage | nindent 4 }}
  {{- with .resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
---
apiVersion: kafka.strimzi.io/v1
kind: Kafka
metadata:
  name: {{ $kafkaName }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "iot.operandLabels" (dict "root" $ "component" "kafka") | nindent 4 }}
spec:
  kafka:
    version: {{ $k.version | quote }}
    listeners:
      - name: plain
        port: 9092
        type: internal
        tls: false
    config:
      offsets.topic.replication.factor: {{ $k.replicationFactor }}
      transaction.state.log.replication.factor: {{ $k.replicationFactor }}
      transaction.state.log.min.isr: {{ $k.minInsyncReplicas }}
      default.replication.factor: {{ $k.replicationFactor }}
      min.insync.replicas: {{ $k.minInsyncReplicas }}
      # Topics come from KafkaTopic resources only.
      auto.create.topics.enable: false
      {{- range $key, $value := $k.config }}
      {{ $key }}: {{ include "iot.scalar" $value }}
      {{- end }}
  entityOperator:
    topicOperator:
      {{- with $k.topicOperatorResources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* The topic both services use. */}}
{{- define "iot.operands.topic" -}}
{{- $t := .Values.topic }}
apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata:
  name: {{ include "iot.kafkaTopicResourceName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    strimzi.io/cluster: {{ include "iot.kafkaName" . }}
    {{- include "iot.operandLabels" (dict "root" $ "component" "kafka") | nindent 4 }}
spec:
  topicName: {{ $t.name | quote }}
  partitions: {{ $t.partitions }}
  replicas: {{ $t.replicas }}
  config:
    retention.ms: {{ include "iot.envValue" $t.retentionMs }}
    cleanup.policy: delete
    {{- range $key, $value := $t.config }}
    {{ $key }}: {{ include "iot.scalar" $value }}
    {{- end }}
{{- end }}

{{/* The CloudNativePG cluster: database and owner; the operator generates the <name>-app secret. */}}
{{- define "iot.operands.postgresql" -}}
{{- $pg := .Values.postgresql }}
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: {{ include "iot.postgresqlName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "iot.operandLabels" (dict "root" $ "component" "postgresql") | nindent 4 }}
spec:
  instances: {{ $pg.instances }}
  {{- with $pg.imageName }}
  imageName: {{ . | quote }}
  {{- end }}
  bootstrap:
    initdb:
      database: {{ $pg.database | quote }}
      owner: {{ $pg.owner | quote }}
  storage:
    size: {{ $pg.storage.size | quote }}
    {{- with $pg.storage.storageClass }}
    storageClass: {{ . | quote }}
    {{- end }}
  {{- with $pg.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if or $pg.parameters $pg.synchronous }}
  postgresql:
    {{- with $pg.parameters }}
    parameters:
      {{- range $key, $value := . }}
      {{ $key }}: {{ include "iot.envValue" $value | quote }}
      {{- end }}
    {{- end }}
    {{- with $pg.synchronous }}
    synchronous:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Pod spec of the operands Job and of its pre-delete hook: kubectl (with bash) under the
"restricted" profile, a token for the operands ServiceAccount, /tmp as the only writable path.
Call with (dict "root" $ "script" "apply.sh").
*/}}
{{- define "iot.operandsPodSpec" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
serviceAccountName: {{ include "iot.fullname" $root }}-operands
automountServiceAccountToken: true
restartPolicy: Never
enableServiceLinks: false
securityContext:
  {{- include "iot.podSecurityContext" $v.runAsUser | nindent 2 }}
containers:
  - name: kubectl
    image: {{ $v.operands.image | quote }}
    imagePullPolicy: IfNotPresent
    command: [/bin/bash, {{ printf "/operands/%s" .script | quote }}]
    env:
      - name: NAMESPACE
        valueFrom:
          fieldRef:
            fieldPath: metadata.namespace
      - name: HOME
        value: /tmp
      {{- if eq .script "apply.sh" }}
      - name: TIMEOUT_S
        value: {{ $v.operands.timeoutSeconds | quote }}
      {{- else }}
      - name: TIMEOUT_S
        value: "60"
      - name: ON_UNINSTALL
        value: {{ $v.operands.onUninstall | quote }}
      - name: TOPIC
        value: {{ if $v.kafka.create }}{{ printf "kafkatopics.kafka.strimzi.io/%s" (include "iot.kafkaTopicResourceName" $root) | quote }}{{ else }}""{{ end }}
      {{- $others := list }}
      {{- if $v.kafka.create }}
      {{- $others = append $others (printf "kafkas.kafka.strimzi.io/%s" (include "iot.kafkaName" $root)) }}
      {{- range $v.kafka.nodePools }}
      {{- $others = append $others (printf "kafkanodepools.kafka.strimzi.io/%s" .name) }}
      {{- end }}
      {{- end }}
      {{- if $v.postgresql.create }}
      {{- $others = append $others (printf "clusters.postgresql.cnpg.io/%s" (include "iot.postgresqlName" $root)) }}
      {{- end }}
      - name: OTHERS
        value: {{ join " " $others | quote }}
      {{- end }}
    resources:
      {{- toYaml $v.operands.resources | nindent 6 }}
    securityContext:
      {{- include "iot.containerSecurityContext" $root | nindent 6 }}
    volumeMounts:
      - name: operands
        mountPath: /operands
        readOnly: true
      - name: tmp
        mountPath: /tmp
volumes:
  - name: operands
    configMap:
      name: {{ include "iot.fullname" $root }}-operands
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end }}
