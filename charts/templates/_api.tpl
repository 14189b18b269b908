{{/*
Names and secrets of the api (the read API and dashboard). It connects as the read-only role
api.database.role, never as the consumer's owner role.
*/}}

{{/* The components with a Deployment and a Service, as a JSON list. */}}
{{- define "iot.components" -}}
{{- $list := list "producer" "consumer" }}
{{- if .Values.api.enabled }}{{ $list = append $list "api" }}{{ end }}
{{- toJson $list }}
{{- end }}

{{/* Secret and key of the api's DATABASE_URL: the chart's role Secret, or an existing one. */}}
{{- define "iot.apiDatabaseSecretName" -}}
{{- if .Values.postgresql.create }}
{{- printf "%s-api-db" (include "iot.fullname" .) }}
{{- else }}
{{- .Values.api.database.existingSecret }}
{{- end }}
{{- end }}

{{- define "iot.apiDatabaseSecretKey" -}}
{{- if .Values.postgresql.create }}uri{{ else }}{{ .Values.api.database.secretKey }}{{ end }}
{{- end }}

{{/* Secret and key of API_ACK_TOKEN: an existing one, or the chart's generated <fullname>-api. */}}
{{- define "iot.apiAckSecretName" -}}
{{- default (printf "%s-api" (include "iot.fullname" .)) .Values.api.ackToken.existingSecret }}
{{- end }}

{{- define "iot.apiAckSecretKey" -}}
{{- if .Values.api.ackToken.existingSecret }}{{ .Values.api.ackToken.secretKey }}{{ else }}ack-token{{ end }}
{{- end }}

{{/*
A generated secret value that survives upgrades: the value already stored in the Secret when
there is one (lookup reads the cluster at install and upgrade), else 32 random alphanumerics
(URL-safe, so it can go in a connection URL as it is). `helm template` has no cluster: a new
value each time. Call with (dict "root" $ "name" "<secret>" "key" "<key>").
*/}}
{{- define "iot.stableSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .name }}
{{- $data := dig "data" dict $existing }}
{{- if hasKey $data .key }}
{{- index $data .key | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}
