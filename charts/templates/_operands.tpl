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
      {{- if include "iot.kafkaScram" . }}
      # TLS with the cluster CA, SCRAM-SHA-512 users (the KafkaUsers below).
      - name: tls
        port: 9093
        type: internal
        tls: true
        authentication:
          type: scram-sha-512
      {{- else }}
      # kafka.security: plaintext. INSECURE: no TLS, no authentication, no ACLs.
      - name: plain
        port: 9092
        type: internal
        tls: false
      {{- end }}
        {{- if .Values.networkPolicy.enabled }}
        # Strimzi turns these into the Kafka pods' NetworkPolicy: only our services reach it
        # (and the KEDA operator, when it reads the lag from Kafka).
        networkPolicyPeers:
          {{- range $component := list "producer" "consumer" }}
          - podSelector:
              matchLabels:
                {{- include "iot.selectorLabels" (dict "root" $ "component" $component) | nindent 16 }}
          {{- end }}
          {{- if and .Values.consumer.keda.enabled (eq .Values.consumer.keda.trigger "kafka") }}
          {{- with .Values.consumer.keda.operatorPeers }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
          {{- end }}
        {{- end }}
    {{- if include "iot.kafkaScram" . }}
    # Kafka's own ACL authorizer: a user may do only what its KafkaUser grants. Strimzi's own
    # components are super users.
    authorization:
      type: simple
    {{- end }}
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
    {{- if include "iot.kafkaScram" . }}
    # Turns each KafkaUser into SCRAM credentials, ACLs and a Secret with its password.
    userOperator:
      {{- with $k.userOperatorResources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
{{- end }}

{{/*
One KafkaUser per service with the least ACLs: the producer writes to the topic; the consumer
reads it and uses its group; KEDA (kafka trigger) only describes the topic and the group to read
the lag. All need Describe on the topic for metadata.
*/}}
{{- define "iot.operands.users" -}}
{{- $groupId := include "iot.setting" (dict "root" . "service" "consumer" "name" "KAFKA_GROUP_ID") }}
{{- $acls := dict
  "producer" (list (dict "type" "topic" "name" .Values.topic.name "operations" (list "Write" "Describe")))
  "consumer" (list
    (dict "type" "topic" "name" .Values.topic.name "operations" (list "Read" "Describe"))
    (dict "type" "group" "name" $groupId "operations" (list "Read")))
  "keda" (list
    (dict "type" "topic" "name" .Values.topic.name "operations" (list "Describe"))
    (dict "type" "group" "name" $groupId "operations" (list "Describe"))) }}
{{- $users := list "producer" "consumer" }}
{{- if include "iot.kedaKafkaUser" . }}{{ $users = append $users "keda" }}{{ end }}
{{- range $component := $users }}
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaUser
metadata:
  name: {{ include "iot.kafkaUserName" (dict "root" $ "component" $component) }}
  namespace: {{ $.Release.Namespace }}
  labels:
    strimzi.io/cluster: {{ include "iot.kafkaName" $ }}
    {{- include "iot.operandLabels" (dict "root" $ "component" $component) | nindent 4 }}
spec:
  authentication:
    type: scram-sha-512
  authorization:
    type: simple
    acls:
      {{- range index $acls $component }}
      - resource:
          type: {{ .type }}
          name: {{ .name | quote }}
          patternType: literal
        operations: {{ toJson .operations }}
      {{- end }}
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

{{/*
The CloudNativePG cluster: database and owner (the operator generates the <name>-app secret), and
the api's role from the chart's <fullname>-api-db Secret.
*/}}
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
      {{- if .Values.api.enabled }}
      # The api's role exists before the consumer first migrates, so the migration's GRANT block
      # finds it; CloudNativePG creates managed roles only after bootstrap, which could lose that
      # race. It then manages this existing role (LOGIN, password) from spec.managed.roles.
      postInitApplicationSQL:
        - {{ printf "CREATE ROLE %s NOLOGIN" .Values.api.database.role | quote }}
      {{- end }}
  storage:
    size: {{ $pg.storage.size | quote }}
    {{- with $pg.storage.storageClass }}
    storageClass: {{ . | quote }}
    {{- end }}
  {{- with $pg.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if .Values.api.enabled }}
  # The api's read-only role; its grants come from the consumer's migration (api/read_only_role.sql).
  managed:
    roles:
      - name: {{ .Values.api.database.role | quote }}
        ensure: present
        login: true
        inherit: true
        passwordSecret:
          name: {{ include "iot.apiDatabaseSecretName" . | quote }}
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
The CRDs of the kinds the operands Job applies, as kubectl resource names.
*/}}
{{- define "iot.operandCrds" -}}
{{- $crds := list }}
{{- if .Values.kafka.create }}
{{- $crds = concat $crds (list "kafkas.kafka.strimzi.io" "kafkanodepools.kafka.strimzi.io" "kafkatopics.kafka.strimzi.io") }}
{{- if include "iot.kafkaScram" . }}
{{- $crds = append $crds "kafkausers.kafka.strimzi.io" }}
{{- end }}
{{- end }}
{{- if .Values.postgresql.create }}
{{- $crds = append $crds "clusters.postgresql.cnpg.io" }}
{{- end }}
{{- toJson $crds }}
{{- end }}

{{/*
Label selector of the CloudNativePG operator Deployment this release installs (the subchart's
selector labels: its name, or nameOverride, and the release).
*/}}
{{- define "iot.cnpgOperatorSelector" -}}
{{- $name := (index .Values "cloudnative-pg" "nameOverride") | default "cloudnative-pg" }}
{{- printf "app.kubernetes.io/name=%s,app.kubernetes.io/instance=%s" $name .Release.Name }}
{{- end }}

{{/*
One container of the operands Jobs. registry.k8s.io/kubectl holds /bin/kubectl and no shell
(see README.md, "Install ordering"), so each container runs exactly one kubectl command.
Call with (dict "root" $ "name" "apply" "args" (list ...)).
*/}}
{{- define "iot.kubectlContainer" -}}
{{- $v := .root.Values }}
- name: {{ .name }}
  image: {{ $v.operands.image | quote }}
  imagePullPolicy: IfNotPresent
  command: [/bin/kubectl]
  args:
    {{- toYaml .args | nindent 4 }}
  env:
    # kubectl keeps its discovery cache under $HOME/.kube; the root filesystem is read-only.
    - name: HOME
      value: /tmp
  resources:
    {{- toYaml $v.operands.resources | nindent 4 }}
  securityContext:
    {{- include "iot.containerSecurityContext" .root | nindent 4 }}
  volumeMounts:
    - name: operands
      mountPath: /operands
      readOnly: true
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/*
Pod spec of the operands Jobs: a token for the operands ServiceAccount, the custom resources
mounted read-only, /tmp as the only writable path. Call with
(dict "root" $ "restartPolicy" "OnFailure" "init" (list <container>...) "main" <container>),
each container rendered by iot.kubectlContainer.
*/}}
{{- define "iot.operandsPodSpec" -}}
{{- $root := .root }}
serviceAccountName: {{ include "iot.fullname" $root }}-operands
automountServiceAccountToken: true
restartPolicy: {{ .restartPolicy }}
enableServiceLinks: false
securityContext:
  {{- include "iot.podSecurityContext" $root.Values.runAsUser | nindent 2 }}
{{- with .init }}
initContainers:
  {{- range . }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end }}
containers:
  {{- .main | nindent 2 }}
volumes:
  - name: operands
    configMap:
      name: {{ include "iot.fullname" $root }}-operands
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end }}

{{/*
Pod spec that applies the custom resources: wait until their CRDs are established and, when
this release installs CloudNativePG, until its operator (and so its webhook) is available; then
one server-side apply. A refusal (the webhook can lag its Deployment) fails the container and the
kubelet restarts it with back-off, within the Job's backoffLimit and deadline.
*/}}
{{- define "iot.operandsApplyPodSpec" -}}
{{- $root := . }}
{{- $v := .Values }}
{{- $ns := .Release.Namespace }}
{{- $timeout := printf "--timeout=%ds" (int $v.operands.timeoutSeconds) }}
{{- $crds := list }}
{{- range (include "iot.operandCrds" . | fromJsonArray) }}
{{- $crds = append $crds (printf "customresourcedefinitions.apiextensions.k8s.io/%s" .) }}
{{- end }}
{{- $init := list (include "iot.kubectlContainer" (dict "root" $root "name" "wait-for-crds" "args" (concat (list "wait" "--for=create" "--for=condition=Established" $timeout) $crds))) }}
{{- if and $v.postgresql.create (index $v "cloudnative-pg" "enabled") }}
{{- $init = append $init (include "iot.kubectlContainer" (dict "root" $root "name" "wait-for-cloudnative-pg" "args" (list "wait" (printf "--namespace=%s" $ns) "--for=condition=Available" $timeout "deployments" (printf "--selector=%s" (include "iot.cnpgOperatorSelector" $root))))) }}
{{- end }}
{{- $main := include "iot.kubectlContainer" (dict "root" $root "name" "apply" "args" (list "apply" (printf "--namespace=%s" $ns) "--server-side" "--field-manager=iot-chart" "--force-conflicts" "--filename=/operands/")) }}
{{- include "iot.operandsPodSpec" (dict "root" $root "restartPolicy" "OnFailure" "init" $init "main" $main) }}
{{- end }}
