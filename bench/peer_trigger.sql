-- The peers (Kafka Connect, Flink) store the fields they read; timestamp_ts and alerta are
-- derived here, in a BEFORE INSERT trigger, the way shared/row.ts derives them (alert when temperature > 35 or
-- battery < 15, DEFAULT_ALERT_RULE), so the peer writes the consumer's real table and indexes.
-- A zone-less TIMESTAMP text is read as UTC, as shared/event.ts documents; epoch milliseconds
-- (a JSON number, stored by the peer as its text) become the instant they count.
CREATE OR REPLACE FUNCTION fn_peer_derive() RETURNS trigger AS $$
BEGIN
  IF NEW."timestamp" ~ '^[0-9]+$' THEN
    NEW.timestamp_ts := to_timestamp(NEW."timestamp"::bigint / 1000.0);
  ELSE
    NEW.timestamp_ts := (NEW."timestamp")::timestamp AT TIME ZONE 'UTC';
    IF NEW."timestamp" ~ '(Z|[+-][0-9]{2}:?[0-9]{2})$' THEN
      NEW.timestamp_ts := (NEW."timestamp")::timestamptz;
    END IF;
  END IF;
  NEW.alerta := NEW.temperatura > 35 OR NEW.bateria < 15;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER tg_peer_derive BEFORE INSERT ON tb_sensor_evento
  FOR EACH ROW EXECUTE FUNCTION fn_peer_derive();
