"""The original pipeline, re-created for the benchmark: a PySpark Structured Streaming job.

Kafka -> from_json against the original schema -> to_timestamp(TIMESTAMP) -> the alert column
-> foreachBatch JDBC append into PostgreSQL. Run by bench/spark/run.ts through spark-submit:

    spark-submit --jars <kafka connector, postgresql driver> bench/spark/job.py \
        --brokers 127.0.0.1:17092 --topic T --jdbc-url jdbc:postgresql://... \
        --user iot --password iot --checkpoint DIR --variant default|tuned

Variants:
- default: what the original job did: the default trigger (a micro-batch as soon as the previous
  one ends), no per-trigger limit, Spark's JDBC defaults (batchsize 1000).
- tuned: a processing-time trigger (every 500 ms), at most 200,000 offsets per micro-batch,
  JDBC batchsize 10,000 and the driver's reWriteBatchedInserts (multi-row INSERTs).

Prints "SPARK_READY" once the streaming query has started, and one "SPARK_PROGRESS {json}" line
per micro-batch (rows, duration), for the harness.
"""

import argparse
import json
import sys

from pyspark.sql import SparkSession
from pyspark.sql.functions import col, from_json, to_timestamp
from pyspark.sql.streaming import StreamingQueryListener
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

# The original schema: the keys of the original system's table, as the devices sent them.
SCHEMA = StructType(
    [
        StructField("ID", StringType()),
        StructField("ID_DISPOSITIVO", StringType()),
        StructField("TIMESTAMP", StringType()),
        StructField("TEMPERATURA", DoubleType()),
        StructField("UMIDADE", DoubleType()),
        StructField("LATITUDE", DoubleType()),
        StructField("LONGITUDE", DoubleType()),
        StructField("STATUS", StringType()),
        StructField("BATERIA", DoubleType()),
    ]
)


# The tuned trigger: a micro-batch every 500 ms instead of back to back. On two cores the
# default trigger spends most of its CPU planning near-empty micro-batches at low rates.
TUNED_TRIGGER = "500 milliseconds"


class Progress(StreamingQueryListener):
    """One line per finished micro-batch on stdout."""

    def onQueryStarted(self, event):
        pass

    def onQueryProgress(self, event):
        p = event.progress
        print(
            "SPARK_PROGRESS "
            + json.dumps(
                {
                    "batchId": p.batchId,
                    "rows": p.numInputRows,
                    "durationMs": p.durationMs,
                    "timestamp": p.timestamp,
                }
            ),
            flush=True,
        )

    def onQueryIdle(self, event):
        pass

    def onQueryTerminated(self, event):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--jdbc-url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--variant", choices=["default", "tuned"], default="default")
    args = parser.parse_args()
    tuned = args.variant == "tuned"

    spark = SparkSession.builder.appName(f"iot-original-{args.variant}").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    spark.streams.addListener(Progress())

    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", args.brokers)
        .option("subscribe", args.topic)
        .option("startingOffsets", "earliest")
    )
    if tuned:
        reader = reader.option("maxOffsetsPerTrigger", 200_000)
    raw = reader.load()

    events = (
        raw.select(from_json(col("value").cast("string"), SCHEMA).alias("e"))
        .select("e.*")
        .withColumn("TIMESTAMP", to_timestamp(col("TIMESTAMP")))
        .withColumn("ALERTA", (col("TEMPERATURA") > 35) | (col("BATERIA") < 15))
    )

    jdbc_url = args.jdbc_url + ("&reWriteBatchedInserts=true" if tuned else "")
    properties = {
        "user": args.user,
        "password": args.password,
        "driver": "org.postgresql.Driver",
    }
    if tuned:
        properties["batchsize"] = "10000"

    def write_batch(batch_df, batch_id):
        batch_df.write.jdbc(jdbc_url, "tb_sensor_evento", mode="append", properties=properties)

    writer = events.writeStream.foreachBatch(write_batch).option(
        "checkpointLocation", args.checkpoint
    )
    if tuned:
        writer = writer.trigger(processingTime=TUNED_TRIGGER)
    query = writer.start()
    print("SPARK_READY", flush=True)
    query.awaitTermination()


if __name__ == "__main__":
    main()
    sys.exit(0)
