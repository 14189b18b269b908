// The Flink peer of the benchmark: Kafka topic -> JSON parse -> JDBC upsert into tb_sensor_evento.
// Written the way a user would write a small DataStream job: the new KafkaSource, Jackson from
// Flink's shaded copy, the new JdbcSink (at-least-once, ON CONFLICT upsert), checkpointing on so
// Kafka offsets are committed only after the sink flushed. timestamp_ts and alerta are left to a
// BEFORE INSERT trigger in the database (bench/flink/trigger.sql): a user's job would not
// re-implement our transform either.
//
// Args: bootstrap topic jdbcUrl user password parallelism checkpointMs groupId [restPort]
// restPort: the local cluster's REST endpoint, on loopback (the bench keeps it off 8081, which
// another Flink on the machine may hold); the blob server and the shuffle take the next two.
import java.sql.PreparedStatement;
import java.util.UUID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.connector.jdbc.JdbcConnectionOptions;
import org.apache.flink.connector.jdbc.JdbcExecutionOptions;
import org.apache.flink.connector.jdbc.core.datastream.sink.JdbcSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

public class Job {
  /** One parsed reading; public fields so Flink treats it as a POJO. */
  public static class Reading {
    public String id, device, timestamp, status;
    public double temperatura, umidade, latitude, longitude, bateria;
  }

  /** Parses like a user would: missing field -> NullPointerException, wrong type -> asDouble. */
  public static class Parse implements MapFunction<String, Reading> {
    private transient ObjectMapper mapper;

    @Override
    public Reading map(String value) throws Exception {
      if (mapper == null) mapper = new ObjectMapper();
      JsonNode n = mapper.readTree(value);
      Reading r = new Reading();
      JsonNode id = n.get("ID");
      r.id = id == null ? UUID.nameUUIDFromBytes(value.getBytes()).toString() : id.asText();
      r.device = n.get("ID_DISPOSITIVO").asText();
      r.timestamp = n.get("TIMESTAMP").asText();
      r.temperatura = n.get("TEMPERATURA").asDouble();
      r.umidade = n.get("UMIDADE").asDouble();
      r.latitude = n.get("LATITUDE").asDouble();
      r.longitude = n.get("LONGITUDE").asDouble();
      r.status = n.get("STATUS").asText();
      r.bateria = n.get("BATERIA").asDouble();
      return r;
    }
  }

  private static ConfigOption<String> key(String name) {
    return ConfigOptions.key(name).stringType().noDefaultValue();
  }

  public static void main(String[] a) throws Exception {
    String bootstrap = a[0], topic = a[1], url = a[2], user = a[3], password = a[4];
    int parallelism = Integer.parseInt(a[5]);
    long checkpointMs = Long.parseLong(a[6]);
    String group = a[7];
    Configuration conf = new Configuration();
    if (a.length > 8) {
      int port = Integer.parseInt(a[8]);
      conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
      conf.set(RestOptions.ADDRESS, "127.0.0.1");
      conf.set(RestOptions.BIND_PORT, String.valueOf(port));
      // The blob server binds jobmanager.bind-host (0.0.0.0 by default) on a random port.
      conf.set(key("jobmanager.bind-host"), "127.0.0.1");
      conf.set(key("blob.server.port"), String.valueOf(port + 1));
      conf.set(key("taskmanager.bind-host"), "127.0.0.1");
      conf.set(key("taskmanager.host"), "127.0.0.1");
      conf.set(key("taskmanager.data.port"), String.valueOf(port + 2));
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(parallelism);
    env.enableCheckpointing(checkpointMs);
    KafkaSource<String> source = KafkaSource.<String>builder()
        .setBootstrapServers(bootstrap)
        .setTopics(topic)
        .setGroupId(group)
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setValueOnlyDeserializer(new SimpleStringSchema())
        .build();
    String sql = "INSERT INTO tb_sensor_evento (id, id_dispositivo, \"timestamp\", temperatura,"
        + " umidade, latitude, longitude, status, bateria) VALUES (?::uuid,?,?,?,?,?,?,?,?)"
        + " ON CONFLICT (id) DO UPDATE SET id_dispositivo = EXCLUDED.id_dispositivo";
    JdbcSink<Reading> sink = JdbcSink.<Reading>builder()
        .withQueryStatement(sql, (PreparedStatement ps, Reading r) -> {
          ps.setString(1, r.id);
          ps.setString(2, r.device);
          ps.setString(3, r.timestamp);
          ps.setDouble(4, r.temperatura);
          ps.setDouble(5, r.umidade);
          ps.setDouble(6, r.latitude);
          ps.setDouble(7, r.longitude);
          ps.setString(8, r.status);
          ps.setDouble(9, r.bateria);
        })
        .withExecutionOptions(JdbcExecutionOptions.builder()
            .withBatchSize(1000).withBatchIntervalMs(200).withMaxRetries(3).build())
        .buildAtLeastOnce(new JdbcConnectionOptions.JdbcConnectionOptionsBuilder()
            .withUrl(url).withDriverName("org.postgresql.Driver")
            .withUsername(user).withPassword(password).build());
    env.fromSource(source, WatermarkStrategy.noWatermarks(), "kafka")
        .map(new Parse()).name("parse")
        .sinkTo(sink).name("jdbc");
    env.execute("iot-flink-peer");
  }
}
