/**
 * [integration] The live stream on a real PostgreSQL: readings sampled per device, alert changes,
 * and a reconnect with Last-Event-ID that misses a reading committed after the client's position
 * although it was written (and timestamped) before readings the client had already received.
 * @module
 */

import assert from "node:assert/strict";
import {
  connectStream,
  insertReadings,
  openAlert,
  startApi,
  testDatabase,
} from "./testing/fixture.ts";

Deno.test("stream: sampled readings, alert changes, and a resume that misses nothing", async (t) => {
  const db = await testDatabase("api_stream");
  const api = await startApi(db.apiUrl, {
    STREAM_INTERVAL_MS: "50",
    STREAM_POLL_INTERVAL_MS: "200",
    API_ACK_TOKEN: "stream-test-token-123",
  });
  try {
    await t.step("a device's readings of one commit arrive as one sampled event", async () => {
      const client = await connectStream(api.base);
      await client.waitFor((e) => e.event === "checkpoint");
      const times = [1, 2, 3, 4, 5].map((s) => `2026-12-04T10:00:0${s}.000000Z`);
      await db.owner.begin((tx) =>
        insertReadings(tx, times.map((time) => ({ device: "sampled", time })))
      );
      const event = await client.waitFor((e) =>
        e.event === "reading" && e.data.device === "sampled"
      );
      assert.equal(event.data.sampled_from, 5);
      assert.equal(event.data.time, times[4], "the newest reading stands for the others");
      assert.ok(event.lastEventId !== undefined);
      await client.close();
    });

    await t.step(
      "a reading committed late with an early timestamp is delivered on resume",
      async () => {
        const client = await connectStream(api.base);
        await client.waitFor((e) => e.event === "checkpoint");
        // T1 writes first (its now(), its xid are the earlier ones) and commits last.
        const late = db.owner.reserve();
        const t1 = await late;
        await t1`BEGIN`;
        const [lateId] = await insertReadings(t1, [{
          device: "late",
          time: "2026-12-04T11:00:00Z",
        }]);
        const [earlyId] = await insertReadings(db.owner, [
          { device: "early", time: "2026-12-04T11:00:01Z" },
        ]);
        const early = await client.waitFor((e) => e.event === "reading" && e.data.id === earlyId);
        const position = early.lastEventId;
        assert.ok(position !== undefined);
        assert.match(position, /^\d+:\d+:\d+/, "T1 is still in progress at the client's position");
        await client.close();
        // While the client is away: T1 commits, and an alert opens and is acknowledged.
        await t1`COMMIT`;
        t1.release();
        const [loaded] = await db.owner`SELECT dt_carga < (SELECT dt_carga FROM tb_sensor_evento
        WHERE id = ${earlyId}) AS earlier FROM tb_sensor_evento WHERE id = ${lateId}`;
        assert.equal(loaded.earlier, true, "the late commit carries the earlier dt_carga");
        const alertId = await openAlert(
          db.owner,
          "late",
          "temperature_high",
          "2026-12-04T11:00:00Z",
          36,
        );
        const ack = await fetch(`${api.base}/api/alerts/${alertId}/acknowledge`, {
          method: "POST",
          headers: {
            authorization: "Bearer stream-test-token-123",
            "content-type": "application/json",
          },
          body: JSON.stringify({ by: "tester", note: "seen" }),
        });
        assert.equal(ack.status, 200);
        await ack.body?.cancel();

        const resumed = await connectStream(api.base, position);
        const got = await resumed.waitFor((e) => e.event === "reading" && e.data.id === lateId);
        assert.equal(got.data.device, "late");
        const alert = await resumed.waitFor((e) => e.event === "alert" && e.data.id === alertId);
        assert.equal(alert.data.acknowledged_by, "tester", "the alert as it is after its changes");
        assert.equal(
          resumed.events.filter((e) => e.data.id === earlyId).length,
          0,
          "what the client had is not sent again",
        );
        await resumed.close();
      },
    );

    await t.step(
      "a position that is not this database's is a 400 naming Last-Event-ID",
      async () => {
        for (const bad of ["garbage", "999999999:999999999:"]) {
          const response = await fetch(`${api.base}/api/stream`, {
            headers: { "last-event-id": bad },
          });
          assert.equal(response.status, 400);
          assert.equal(response.headers.get("content-type"), "application/problem+json");
          const problem = await response.json();
          assert.equal(problem.parameter, "Last-Event-ID");
        }
      },
    );
  } finally {
    api.signal("SIGTERM");
    const status = await api.exited();
    await db.owner.end({ timeout: 5 });
    assert.equal(status.code, 0, JSON.stringify(api.logs.slice(-5)));
  }
});
