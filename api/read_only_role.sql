-- The api's database role: reads every table of the pipeline and may change nothing but an
-- alert's acknowledgement. See README, "The read API", for who runs which part where.
--
-- 1. The role. Needs a role that may create roles (a superuser, CREATEROLE). The local stack
--    (scripts/services/postgres_cluster.ts) makes it with password iot_api; with CloudNativePG,
--    declare it in the Cluster's spec.managed.roles (login: true, passwordSecret) instead.
--    Run by hand elsewhere, with a password of your own:
--      CREATE ROLE iot_api LOGIN PASSWORD '...';
--
-- 2. The grants. Run by the tables' owner (the consumer's role) in the pipeline's database. The
--    consumer's migration runs the same statements when the role exists then; run this file
--    when the role was made after the schema:
--      psql "$DATABASE_URL" -f api/read_only_role.sql
GRANT SELECT ON tb_sensor_evento, tb_dispositivo, tb_alerta, tb_sensor_evento_rejeitado,
  tb_kafka_offset TO iot_api;
GRANT UPDATE (acknowledged_at, acknowledged_by, acknowledge_note) ON tb_alerta TO iot_api;
