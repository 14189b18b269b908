import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.utils.ByteBufferOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Writes shared/testdata/kafka_codec_vectors.json's data: the records-part bytes Kafka's own
 * Compression classes (what its Java producer uses) write for a known input, per codec.
 * Run: java -cp ".cache/kafka/4.3.1/libs/*" shared/testdata/KafkaCodecVectors.java
 * (prints "codec base64" lines; kafka_codecs_test.ts builds the same input).
 */
public class KafkaCodecVectors {
  public static void main(String[] args) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; sb.length() < 140_000; i++) {
      sb.append("{\"i\":").append(i % 50).append(",\"t\":").append(i % 10).append("}\n");
    }
    byte[] input = sb.toString().getBytes(StandardCharsets.UTF_8);
    for (String c : new String[] {"gzip", "snappy", "lz4", "zstd"}) {
      Compression comp = Compression.of(CompressionType.forName(c)).build();
      ByteBufferOutputStream bb = new ByteBufferOutputStream(1024);
      try (OutputStream out = comp.wrapForOutput(bb, RecordBatch.MAGIC_VALUE_V2)) {
        out.write(input);
      }
      ByteBuffer buf = bb.buffer();
      buf.flip();
      byte[] b = new byte[buf.remaining()];
      buf.get(b);
      System.out.println(c + " " + Base64.getEncoder().encodeToString(b));
    }
  }
}
