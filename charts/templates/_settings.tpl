{{/*
Written by `deno task settings` from the settings tables (shared/service_settings.ts,
consumer/config.ts, producer/config.ts): do not edit. The defaults the services apply to the
variables of `<service>.env`, for the checks of _validate.tpl when a value is removed
(`--set consumer.env.SHUTDOWN_TIMEOUT_S=null`). Use: include "iot.settingDefaults" . | fromJson
*/}}
{{- define "iot.settingDefaults" -}}
{"producer":{"KAFKA_CLIENT_ID":"iot-producer","PRODUCER_DEVICES":50,"PRODUCER_RATE":10,"PRODUCER_COUNT":0,"PRODUCER_DURATION_S":0,"PRODUCER_INVALID_RATIO":0,"PRODUCER_BATCH_SIZE":500,"LOG_LEVEL":"info","SUMMARY_INTERVAL_S":10,"SHUTDOWN_TIMEOUT_S":25},"consumer":{"KAFKA_CLIENT_ID":"iot-consumer","KAFKA_GROUP_ID":"iot-consumer","KAFKA_SESSION_TIMEOUT_MS":30000,"KAFKA_METADATA_MAX_AGE_MS":30000,"DATABASE_POOL_SIZE":4,"DATABASE_STATEMENT_TIMEOUT_S":15,"DATABASE_QUERY_TIMEOUT_S":30,"ALERT_TEMPERATURE_MAX":35,"ALERT_BATTERY_MIN":15,"CONSUMER_CONCURRENCY":3,"REJECT_MAX_STORED_BYTES":65536,"REJECT_RETENTION_DAYS":30,"OFFLINE_CHECK_INTERVAL_S":10,"OFFLINE_FACTOR":3,"OFFLINE_MIN_S":30,"OFFLINE_MAX_S":3600,"DEVICE_FUTURE_TOLERANCE_S":300,"DEVICE_INTERVAL_MIN_S":1,"DEVICE_INTERVAL_MAX_S":3600,"OFFSET_MISMATCH_POLICY":"stop","LOG_LEVEL":"info","SUMMARY_INTERVAL_S":10,"SHUTDOWN_TIMEOUT_S":25}}
{{- end }}
