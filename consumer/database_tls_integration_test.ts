/**
 * Integration: the consumer reaches PostgreSQL over TLS with DATABASE_CA_FILE (verify-full), as
 * it does CloudNativePG's in Kubernetes; a CA that did not sign the server's certificate keeps it
 * alive but not ready, with the reason given.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { makeCa } from "../scripts/openssl.ts";
import { eventually, ServiceProcess, startConsumer } from "../testing/processes.ts";
import {
  createTopic,
  dropDatabase,
  freshDatabase,
  localTls,
  startServices,
  uniqueName,
} from "../testing/services.ts";

Deno.test({
  name:
    "[integration] consumer connects to PostgreSQL with TLS verify-full through DATABASE_CA_FILE",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const { kafkaBrokers } = await startServices();
    const { caFile } = await localTls();
    const topic = uniqueName("pgtls_it");
    await createTopic(topic, 1);
    const databaseUrl = await freshDatabase(topic);
    const env = {
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: topic,
      KAFKA_CLIENT_ID: topic,
      DATABASE_URL: databaseUrl,
    };
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await t.step("with the CA: every connection of the consumer is TLS", async () => {
        const consumer = await startConsumer({ ...env, DATABASE_CA_FILE: caFile });
        try {
          const ssl = () =>
            sql<{ ssl: boolean }[]>`
              SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
              WHERE a.application_name = ${topic}`;
          await eventually(async () => (await ssl()).length > 0, "the consumer's connections");
          const rows = await ssl();
          assert.ok(rows.every((r) => r.ssl), JSON.stringify(rows));
        } finally {
          consumer.signal("SIGTERM");
          assert.equal((await consumer.exited()).code, 0);
        }
      });

      await t.step("with another CA: alive, not ready, the database named", async () => {
        const dir = await Deno.makeTempDir({ prefix: "iot-pgtls-" });
        try {
          await makeCa(dir, "/CN=some other CA", 1);
          const consumer = new ServiceProcess("consumer/main.ts", {
            ...env,
            DATABASE_CA_FILE: `${dir}/ca.crt`,
          });
          try {
            const line = await consumer.waitForLog((l) =>
              l.msg === "database migration failed; retrying"
            );
            assert.match(JSON.stringify(line.error), /certificate|UnknownIssuer/i);
            const ready = await consumer.get("/readyz");
            assert.equal(ready.status, 503);
            const { reasons } = await ready.json();
            assert.ok(
              reasons.some((r: string) => r.startsWith("database:")),
              JSON.stringify(reasons),
            );
            consumer.signal("SIGTERM");
            assert.equal((await consumer.exited()).code, 0);
          } finally {
            await consumer.dispose();
          }
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      });
    } finally {
      await sql.end({ timeout: 5 });
      await dropDatabase(topic);
    }
  },
});
