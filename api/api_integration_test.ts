/**
 * [integration] Every endpoint of the api on a real PostgreSQL, connected as the read-only role:
 * each real response is validated against /openapi.json with ajv (JSON Schema 2020-12), pages
 * follow their cursors without gaps or repeats, bad parameters get problem details naming them,
 * and the role itself is proven unable to write anything but an acknowledgement.
 * @module
 */

import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import postgres from "postgres";
import { OPENAPI } from "./openapi.ts";
import {
  connectStream,
  insertReadings,
  openAlert,
  startApi,
  testDatabase,
  upsertDevice,
} from "./testing/fixture.ts";

const TOKEN = "integration-ack-token-0001";
const T0 = Date.parse("2026-12-04T08:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

type Json = Record<string, unknown>;

Deno.test("api: every endpoint's real responses match its OpenAPI document", async (t) => {
  const db = await testDatabase("api_endpoints");
  // Seed: 3 devices, 60 readings each a minute apart, alerts of each state, rejects.
  for (const device of ["dev-a", "dev-b", "dev-c"]) {
    const ids = await insertReadings(
      db.owner,
      Array.from({ length: 60 }, (_, i) => ({
        device,
        time: at(i * 60),
        temperature: 20 + (i % 20),
        alert: i % 10 === 0,
      })),
    );
    await upsertDevice(db.owner, device, { id: ids[59], time: at(59 * 60) }, 60);
  }
  await upsertDevice(db.owner, "dev-new", null, 0);
  const hot = await openAlert(db.owner, "dev-a", "temperature_high", at(600), 38.5);
  const offline = await openAlert(db.owner, "dev-b", "offline", at(1200), 90);
  const cleared = await openAlert(db.owner, "dev-c", "battery_low", at(60), 12);
  await db.owner`UPDATE tb_alerta SET cleared_at = ${at(120)} WHERE id = ${cleared}`;
  for (let offset = 0; offset < 3; offset++) {
    await db.owner`INSERT INTO tb_sensor_evento_rejeitado (topico, particao, offset_kafka, payload,
      motivos) VALUES ('iot.sensors', 0, ${offset}, ${
      new TextEncoder().encode(`{"bad": ${offset}`)
    },
      ${db.owner.json([{ field: "payload", code: "invalid_json", message: "not JSON" }])})`;
  }
  const api = await startApi(db.apiUrl, { API_ACK_TOKEN: TOKEN, STREAM_INTERVAL_MS: "50" });
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: "api", components: (OPENAPI as Json).components }, "api");
  const checked = new Set<string>();
  /** Fetches, checks the status and validates the body against the document. */
  const call = async (
    route: string,
    path: string,
    status: number,
    schema: string,
    init?: RequestInit,
  ): Promise<Json> => {
    const response = await fetch(`${api.base}${path}`, init);
    const body = await response.json();
    assert.equal(response.status, status, `${path}: ${JSON.stringify(body)}`);
    const type = status < 400 ? "application/json" : "application/problem+json";
    assert.equal(response.headers.get("content-type"), type, path);
    const validate = ajv.getSchema(`api#/components/schemas/${schema}`)!;
    assert.ok(
      validate(body),
      `${path}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(body)}`,
    );
    checked.add(route);
    return body;
  };
  const all = async (route: string, path: string, schema: string): Promise<Json[]> => {
    const items: Json[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const url: string = cursor === null ? path : `${path}${sep}cursor=${cursor}`;
      const page: Json = await call(route, url, 200, schema);
      items.push(...page.items as Json[]);
      cursor = page.next_cursor as string | null;
    } while (cursor !== null);
    return items;
  };

  try {
    await t.step("the validator refuses a body the document does not allow", () => {
      const event = ajv.getSchema("api#/components/schemas/EventPage")!;
      assert.equal(event({ items: [{ id: "x" }], next_cursor: null }), false);
      assert.equal(event({ items: [], next_cursor: null, more: 1 }), false);
    });

    await t.step("events: keyset pages, no gap, no repeat, filters", async () => {
      const pages = await all("/api/events", "/api/events?limit=7", "EventPage");
      assert.equal(pages.length, 180);
      assert.equal(new Set(pages.map((e) => e.id)).size, 180);
      const times = pages.map((e) => e.time as string);
      assert.deepEqual(times, [...times].sort().reverse(), "newest first");
      const device = await all(
        "/api/events",
        `/api/events?device=dev-b&from=${at(600)}&to=${at(1200)}&alert=true&limit=1`,
        "EventPage",
      );
      assert.deepEqual(
        device.map((e) => e.time),
        [at(1200), at(600)].map((s) => s.replace("Z", "000Z")),
      );
    });

    await t.step("devices: latest state, open alerts, status", async () => {
      const devices = await all("/api/devices", "/api/devices?limit=2", "DevicePage");
      const byId = Object.fromEntries(devices.map((d) => [d.device, d]));
      assert.deepEqual(Object.keys(byId), ["dev-a", "dev-b", "dev-c", "dev-new"]);
      assert.equal(byId["dev-a"].status, "alert");
      assert.deepEqual(byId["dev-a"].open_alerts, ["temperature_high"]);
      assert.equal(byId["dev-b"].status, "offline");
      assert.equal(byId["dev-b"].online, false);
      assert.equal(byId["dev-c"].status, "ok");
      assert.equal(byId["dev-new"].latest, null);
      const one = await call("/api/devices/{id}", "/api/devices/dev-c", 200, "Device");
      assert.equal(one.readings, 60);
      await call("/api/devices/{id}", "/api/devices/nobody", 404, "Problem");
    });

    await t.step("history: buckets over the range", async () => {
      const h = await call(
        "/api/devices/{id}/history",
        `/api/devices/dev-a/history?from=${at(0)}&to=${at(3600)}&points=6`,
        200,
        "History",
      );
      const buckets = h.buckets as Json[];
      assert.equal(buckets.length, 6);
      assert.equal(buckets.reduce((n, b) => n + (b.count as number), 0), 60);
      assert.deepEqual(buckets[0].temperature, { avg: 24.5, min: 20, max: 29 });
      await call("/api/devices/{id}/history", "/api/devices/x/history?points=0", 400, "Problem");
    });

    await t.step("alerts: states, filters, pages", async () => {
      const open = await all("/api/alerts", "/api/alerts?state=open&limit=1", "AlertPage");
      assert.deepEqual(open.map((a) => a.id).sort(), [hot, offline].sort());
      const battery = await call(
        "/api/alerts",
        "/api/alerts?type=battery_low&device=dev-c",
        200,
        "AlertPage",
      );
      assert.deepEqual((battery.items as Json[]).map((a) => [a.id, a.open]), [[cleared, false]]);
    });

    await t.step("acknowledge: token, body, once", async () => {
      const route = "/api/alerts/{id}/acknowledge";
      const post = (body: unknown, token = TOKEN): RequestInit => ({
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const path = `/api/alerts/${hot}/acknowledge`;
      await call(route, path, 401, "Problem", post({ by: "x" }, "wrong-token-wrong-token"));
      const bad = await call(route, path, 400, "Problem", post({ by: "x", extra: 1 }));
      assert.equal(bad.parameter, "body.extra");
      const ok = await call(route, path, 200, "Alert", post({ by: "ana", note: "fan on" }));
      assert.equal(ok.acknowledged_by, "ana");
      assert.equal(ok.open, true, "acknowledging leaves the lifecycle alone");
      await call(route, path, 409, "Problem", post({ by: "bob" }));
      await call(route, "/api/alerts/999999/acknowledge", 404, "Problem", post({ by: "x" }));
    });

    await t.step("rejects and stats", async () => {
      const rejects = await all("/api/rejects", "/api/rejects?limit=2", "RejectPage");
      assert.deepEqual(rejects.map((r) => r.payload_text), ['{"bad": 2', '{"bad": 1', '{"bad": 0']);
      const stats = await call("/api/stats", "/api/stats", 200, "Stats");
      assert.equal(stats.rows, 180);
      assert.equal(stats.devices, 4);
      assert.equal(stats.rejects, 3);
      assert.deepEqual(stats.open_alerts, {
        temperature_high: 1,
        battery_low: 0,
        offline: 1,
        anomaly: 0,
        drift: 0,
      });
    });

    await t.step("bad parameters: 400 problem naming the parameter", async () => {
      const cases: [string, string, string][] = [
        ["/api/events", "/api/events?limit=0", "limit"],
        ["/api/events", "/api/events?limt=5", "limt"],
        ["/api/events", "/api/events?from=yesterday", "from"],
        ["/api/events", "/api/events?cursor=nonsense!", "cursor"],
        ["/api/events", "/api/events?alert=yes", "alert"],
        ["/api/alerts", "/api/alerts?state=closed", "state"],
        ["/api/rejects", "/api/rejects?cursor=WyIiLCIxIl0&cursor=x", "cursor"],
        ["/api/stats", "/api/stats?x=1", "x"],
      ];
      for (const [route, path, parameter] of cases) {
        const problem = await call(route, path, 400, "Problem");
        assert.equal(problem.parameter, parameter, path);
      }
    });

    await t.step("the stream's events and the document itself", async () => {
      const response = await fetch(`${api.base}/api/stream`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
      await response.body!.cancel();
      const client = await connectStream(api.base);
      await client.waitFor((e) => e.event === "checkpoint");
      const [id] = await insertReadings(db.owner, [{ device: "dev-a", time: at(4000) }]);
      await db.owner`UPDATE tb_alerta SET trigger_count = trigger_count + 1 WHERE id = ${hot}`;
      const reading = await client.waitFor((e) => e.event === "reading" && e.data.id === id);
      const alert = await client.waitFor((e) => e.event === "alert" && e.data.id === hot);
      await client.close();
      for (const [schema, data] of [["StreamReading", reading.data], ["Alert", alert.data]]) {
        const validate = ajv.getSchema(`api#/components/schemas/${schema}`)!;
        assert.ok(validate(data), `${schema}: ${JSON.stringify(validate.errors)}`);
      }
      checked.add("/api/stream");
      const doc = await (await fetch(`${api.base}/openapi.json`)).json();
      assert.equal(doc.openapi, "3.1.0");
      assert.deepEqual(
        Object.keys(doc.paths).filter((p) => !checked.has(p)),
        [],
        "every documented path was called",
      );
    });
  } finally {
    api.signal("SIGTERM");
    assert.equal((await api.exited()).code, 0);
    await db.owner.end({ timeout: 5 });
  }
});

Deno.test("api: the read-only role reads and acknowledges, and nothing else", async (t) => {
  const db = await testDatabase("api_role");
  const [id] = await insertReadings(db.owner, [{ device: "d", time: at(0) }]);
  const alert = await openAlert(db.owner, "d", "battery_low", at(0), 10);
  const role = postgres(db.apiUrl, { max: 1, onnotice: () => {} });
  const refused = async (statement: Promise<unknown>) => {
    await assert.rejects(statement, (e: { code?: string }) => e.code === "42501");
  };
  try {
    await t.step("reads every table", async () => {
      for (
        const table of [
          "tb_sensor_evento",
          "tb_dispositivo",
          "tb_alerta",
          "tb_sensor_evento_rejeitado",
          "tb_kafka_offset",
        ]
      ) {
        await role.unsafe(`SELECT count(*) FROM ${table}`);
      }
    });
    await t.step("writes are refused (42501)", async () => {
      await refused(insertReadings(role, [{ device: "d", time: at(1) }]));
      await refused(role`DELETE FROM tb_sensor_evento WHERE id = ${id}`);
      await refused(role`UPDATE tb_sensor_evento SET temperatura = 0 WHERE id = ${id}`);
      await refused(role`UPDATE tb_alerta SET cleared_at = now() WHERE id = ${alert}`);
      await refused(role`INSERT INTO tb_kafka_offset (group_id, topic, partition, next_offset)
        VALUES ('g', 't', 0, 0)`);
      await refused(role`TRUNCATE tb_sensor_evento_rejeitado`);
    });
    await t.step("the acknowledgement columns may change", async () => {
      const rows = await role`UPDATE tb_alerta SET acknowledged_at = now(), acknowledged_by = 'x',
        acknowledge_note = 'y' WHERE id = ${alert} RETURNING id`;
      assert.equal(rows.length, 1);
    });
    await t.step("without API_ACK_TOKEN acknowledging is refused and says why", async () => {
      const api = await startApi(db.apiUrl);
      try {
        const response = await fetch(`${api.base}/api/alerts/${alert}/acknowledge`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ by: "x" }),
        });
        assert.equal(response.status, 403);
        assert.match((await response.json()).detail, /API_ACK_TOKEN/);
      } finally {
        api.signal("SIGTERM");
        assert.equal((await api.exited()).code, 0);
      }
    });
  } finally {
    await role.end({ timeout: 5 });
    await db.owner.end({ timeout: 5 });
  }
});

Deno.test("the image compiles the api with the permissions of `deno task api`", async () => {
  const root = new URL("../", import.meta.url);
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
  const taskFlags = (tasks.api.command as string).match(/--allow-\S+/g);
  const dockerfile = await Deno.readTextFile(new URL("api/Dockerfile", root));
  assert.match(dockerfile, /--output \/out\/api api\/main\.ts/);
  assert.deepEqual(dockerfile.match(/--allow-\S+/g), taskFlags);
  assert.deepEqual(taskFlags, ["--allow-net", "--allow-env", "--allow-read"]);
});
