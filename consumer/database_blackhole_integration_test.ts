/**
 * [integration] PostgreSQL behind a network that drops packets: the consumer must notice within
 * DATABASE_QUERY_TIMEOUT_S (not the kernel's 15 minutes), say so on /readyz, and once the path
 * heals store every event exactly once. The drop is the chaos suite's TCP proxy in black-hole
 * mode, on loopback: bytes are held, no socket closes, nothing answers.
 */

import { validEvents } from "../testing/payloads.ts";
import assert from "node:assert/strict";
import postgres from "postgres";
import { TcpProxy } from "../chaos/proxy.ts";
import { eventually, startConsumer, waitForDrain } from "../testing/processes.ts";
import {
  createTopic,
  freshDatabase,
  kafkaClient,
  startServices,
  uniqueName,
} from "../testing/services.ts";

const TOTAL = 30_000;
const QUERY_TIMEOUT_S = 2;

Deno.test({
  name:
    "[integration] a black-holed PostgreSQL turns /readyz 503 within the query timeout, and after it heals every event is stored once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { kafkaBrokers } = await startServices();
    const topic = uniqueName("it_blackhole");
    await createTopic(topic, 3);
    const databaseUrl = await freshDatabase(topic);
    const proxy = new TcpProxy(Number(new URL(databaseUrl).port));
    const viaProxy = new URL(databaseUrl);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    const producer = (await kafkaClient("it-blackhole")).producer();
    await producer.connect();
    const send = async (from: number, count: number) => {
      const all = validEvents(from, count, 40);
      for (let i = 0; i < all.length; i += 1000) {
        await producer.send({ topic, acks: -1, messages: all.slice(i, i + 1000) });
      }
    };
    const consumer = await startConsumer({
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_TOPIC: topic,
      DATABASE_URL: viaProxy.href,
      DATABASE_STATEMENT_TIMEOUT_S: "1",
      DATABASE_QUERY_TIMEOUT_S: String(QUERY_TIMEOUT_S),
    });
    const readiness = async () => {
      const response = await consumer.get("/readyz");
      const body = await response.json();
      return { status: response.status, reasons: (body.reasons ?? []) as string[] };
    };
    const stored = async () =>
      (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM tb_sensor_evento`)[0].n;
    try {
      await send(0, TOTAL / 2);
      await eventually(async () => (await stored()) >= 2000, "first rows");
      await eventually(async () => (await readiness()).status === 200, "ready before the fault");

      // Mid-stream: writes are in flight when the path goes silent.
      proxy.setBlackHole(true);
      const silent = performance.now();
      const more = send(TOTAL / 2, TOTAL / 2);
      let last = { status: 0, reasons: [] as string[] };
      await eventually(
        async () => {
          last = await readiness();
          return last.reasons.some((r) => r.startsWith("database: no answer from PostgreSQL"));
        },
        "/readyz to name the silent database",
        20_000,
      ).catch((error) => {
        throw new Error(`${error.message}; /readyz said ${JSON.stringify(last)}`);
      });
      const noticedS = (performance.now() - silent) / 1000;
      assert.ok(noticedS < QUERY_TIMEOUT_S + 3, `noticed after ${noticedS.toFixed(1)} s`);
      assert.equal((await readiness()).status, 503);
      const atSilence = await stored();
      // Longer than the timeout again: resets of the fresh pools must keep it not ready.
      await new Promise((resolve) => setTimeout(resolve, 2 * QUERY_TIMEOUT_S * 1000));
      assert.equal((await readiness()).status, 503, "still not ready while silent");
      assert.equal(await stored(), atSilence, "nothing reached the database meanwhile");

      // Healed: held bytes (statements of the reset connections) arrive late, as retransmitted
      // packets would; the fence keeps them from writing a batch twice.
      proxy.setBlackHole(false);
      await more;
      await waitForDrain(sql, "iot-consumer", topic);
      const [census] = await sql<{ rows: number; ids: number; rejects: number }[]>`
        SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids,
          (SELECT count(*)::int FROM tb_sensor_evento_rejeitado) AS rejects
        FROM tb_sensor_evento`;
      assert.deepEqual(census, { rows: TOTAL, ids: TOTAL, rejects: 0 });
      await eventually(async () => (await readiness()).status === 200, "ready again");
      assert.ok(
        consumer.logs.some((l) => l.msg === "PostgreSQL did not answer in time; connections reset"),
      );
      console.log(`noticed after ${noticedS.toFixed(1)} s; ${atSilence} rows stored at silence`);
    } finally {
      proxy.setBlackHole(false);
      await consumer.dispose();
      proxy.close();
      await producer.disconnect();
      await sql.end();
    }
  },
});
