import assert from "node:assert/strict";
// An independent v5 implementation to check against (test-only, so not in the import map).
import { v5 as uuidV5 } from "uuid";
import {
  type AlertRule,
  DEFAULT_ALERT_RULE,
  deriveEventId,
  isAlert,
  nameBasedV7Uuid,
  toRow,
} from "./row.ts";
import type { SensorEvent } from "./validate.ts";

/** The namespace of name-based ids (the producer's); pinned: changing it changes their ids. */
const EVENT_ID_NAMESPACE = "6f1d3c2a-8b4e-5d7f-9a0c-1e2f3a4b5c6d";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("DEFAULT_ALERT_RULE is the original system's 35 °C and 15 % and cannot be changed", () => {
  assert.deepEqual({ ...DEFAULT_ALERT_RULE }, { temperatureMax: 35, batteryMin: 15 });
  assert.ok(Object.isFrozen(DEFAULT_ALERT_RULE));
});

Deno.test("isAlert() uses strict bounds on temperature and battery", async (t) => {
  const cases: [number, number, boolean, string][] = [
    [35, 50, false, "exactly 35 °C raises no alert"],
    [35.0001, 50, true, "35.0001 °C alerts"],
    [34.9999, 50, false, "34.9999 °C raises no alert"],
    [20, 15, false, "exactly 15 % raises no alert"],
    [20, 14.9999, true, "14.9999 % alerts"],
    [20, 15.0001, false, "15.0001 % raises no alert"],
    [36, 10, true, "both conditions"],
    [-50, 100, false, "coldest and full"],
    [100, 0, true, "hottest and empty"],
    [20, 0, true, "an empty battery alone"],
  ];
  for (const [temperature, battery, expected, what] of cases) {
    await t.step(`${what} (${temperature} °C, ${battery} %)`, () => {
      assert.equal(isAlert(temperature, battery, DEFAULT_ALERT_RULE), expected);
    });
  }
});

Deno.test("isAlert() follows a custom rule", () => {
  const rule: AlertRule = { temperatureMax: 25, batteryMin: 50 };
  assert.equal(isAlert(25, 50, rule), false);
  assert.equal(isAlert(25.1, 50, rule), true);
  assert.equal(isAlert(20, 49.9, rule), true);
  assert.equal(isAlert(30, 80, DEFAULT_ALERT_RULE), false);
  assert.equal(isAlert(30, 80, rule), true);
  // A rule that can never alert.
  const never: AlertRule = { temperatureMax: 100, batteryMin: 0 };
  assert.equal(isAlert(100, 0, never), false);
});

const KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const TOPIC_ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The derivation again, on WebCrypto instead of node:crypto: an independent check. */
async function webCryptoId(key: string, name: string): Promise<string> {
  const enc = new TextEncoder();
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    enc.encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const bytes = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, enc.encode(name)));
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

Deno.test("deriveEventId() is a keyed, deterministic v8 UUID of topic ID, partition and offset", async (t) => {
  const id = deriveEventId(KEY, TOPIC_ID, 0, "42");
  await t.step("same input, same id", () => {
    assert.equal(deriveEventId(KEY, TOPIC_ID, 0, "42"), id);
  });
  await t.step("lower-case version-8 UUID with the RFC 9562 variant", () => {
    assert.match(id, V8);
  });
  await t.step("agrees with WebCrypto's HMAC-SHA-256 of 'topicId/partition/offset'", async () => {
    assert.equal(id, await webCryptoId(KEY, `${TOPIC_ID}/0/42`));
    assert.equal(
      deriveEventId(KEY, TOPIC_ID, 11, "9223372036854775807"),
      await webCryptoId(KEY, `${TOPIC_ID}/11/9223372036854775807`),
    );
  });
  await t.step("pinned value: derived ids must never change between releases", () => {
    assert.equal(id, "5c56ec81-dcb3-82e0-b027-6af8239dc282");
  });
  await t.step("differs by key, topic ID, partition and offset", () => {
    const ids = new Set([
      id,
      deriveEventId(`${KEY}0`, TOPIC_ID, 0, "42"),
      deriveEventId(KEY, "f5a04b6c-0ba6-4e82-b31d-045c33d45347", 0, "42"),
      deriveEventId(KEY, TOPIC_ID, 1, "42"),
      deriveEventId(KEY, TOPIC_ID, 0, "43"),
      deriveEventId(KEY, TOPIC_ID, 4, "2"),
      deriveEventId(KEY, TOPIC_ID, 0, "420"),
    ]);
    assert.equal(ids.size, 7);
  });
  await t.step("not the public v5 name hash of the same coordinates (pre-claimable)", () => {
    assert.notEqual(id, uuidV5(`${TOPIC_ID}/0/42`, EVENT_ID_NAMESPACE));
    // Nor the hash bits of the producer's public name-based id of them.
    assert.notEqual(id.slice(15), nameBasedV7Uuid(0, `${TOPIC_ID}/0/42`).slice(15));
  });
  await t.step("no collision over 20 000 coordinates", () => {
    const ids = new Set<string>();
    for (let partition = 0; partition < 4; partition++) {
      for (let offset = 0; offset < 5000; offset++) {
        const derived = deriveEventId(KEY, TOPIC_ID, partition, String(offset));
        assert.match(derived, V8);
        ids.add(derived);
      }
    }
    assert.equal(ids.size, 20_000);
  });
});

Deno.test("nameBasedV7Uuid() is the v7 layout over the name's v5 hash", async (t) => {
  const M = 1_767_225_600_000; // 2026-01-01T00:00:00Z = 0x019b76daa800
  await t.step("known vector, by hand", () => {
    // SHA-1(namespace ‖ "iot.sensors/0/42") = 6d8ac060 de7a ef53 b002 770af7ff28b3 2fe59c02.
    // Bytes 0-5 become M (019b76da a800); byte 6 ef -> 7f (version 7 over its low nibble);
    // byte 7 53; byte 8 b0 keeps its low 6 bits under variant 10 (b0); bytes 9-15 as hashed.
    assert.equal(nameBasedV7Uuid(M, "iot.sensors/0/42"), "019b76da-a800-7f53-b002-770af7ff28b3");
  });
  await t.step("its 74 hash bits are the independent v5's of the same name", () => {
    for (const name of ["iot.sensors/0/42", "x", "5/sensor-0001-3b7c1a/1767225600000/0"]) {
      assert.equal(
        nameBasedV7Uuid(M, name).slice(15),
        uuidV5(name, EVENT_ID_NAMESPACE).slice(15),
      );
    }
  });
  await t.step("48-bit instant first, version 7, variant 10", () => {
    for (const ms of [0, 1, 255, 256, M, 2 ** 48 - 1]) {
      const id = nameBasedV7Uuid(ms, "x");
      assert.match(id, V7);
      assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ms);
    }
  });
  await t.step("deterministic: same instant and name, same id", () => {
    assert.equal(nameBasedV7Uuid(M, "5/d/1/0"), nameBasedV7Uuid(M, "5/d/1/0"));
    assert.notEqual(nameBasedV7Uuid(M, "5/d/1/0"), nameBasedV7Uuid(M, "5/d/1/1"));
    assert.notEqual(nameBasedV7Uuid(M, "5/d/1/0"), nameBasedV7Uuid(M + 1, "5/d/1/0"));
  });
  await t.step("later instants sort after earlier ones, whatever the names", () => {
    const instants = [0, 1, 255, 256, 65_536, 2 ** 32, M, M + 1, 2 ** 48 - 1];
    const ids = instants.map((ms, i) => nameBasedV7Uuid(ms, `name ${instants.length - i}`));
    assert.deepEqual([...ids].sort(), ids);
  });
  await t.step("refuses instants it cannot hold", () => {
    for (const bad of [-1, 2 ** 48, 1.5, NaN]) {
      assert.throws(() => nameBasedV7Uuid(bad, "x"), RangeError);
    }
  });
});

Deno.test("toRow() maps every column of tb_sensor_evento", async (t) => {
  const event: SensorEvent = {
    id: "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
    deviceId: "sensor-0001",
    timestampText: "2026-11-26T10:15:30.1234567-03:00",
    timestamp: {
      epochMs: Date.UTC(2026, 10, 26, 13, 15, 30, 123),
      iso: "2026-11-26T13:15:30.123456Z",
    },
    temperature: 36.2,
    humidity: 55.5,
    latitude: -23.55,
    longitude: -46.63,
    status: "WARN",
    battery: 80,
  };
  await t.step("with the default rule", () => {
    assert.deepEqual(toRow(event, "11111111-2222-4333-8444-555555555555", DEFAULT_ALERT_RULE), {
      id: "11111111-2222-4333-8444-555555555555",
      id_dispositivo: "sensor-0001",
      timestamp: "2026-11-26T10:15:30.1234567-03:00",
      timestamp_ts: "2026-11-26T13:15:30.123456Z",
      temperatura: 36.2,
      umidade: 55.5,
      latitude: -23.55,
      longitude: -46.63,
      status: "WARN",
      bateria: 80,
      alerta: true,
    });
  });
  await t.step("the id argument wins over the event's own id", () => {
    assert.equal(toRow(event, "derived", DEFAULT_ALERT_RULE).id, "derived");
  });
  await t.step("alerta follows the rule passed in", () => {
    assert.equal(toRow(event, "x", { temperatureMax: 40, batteryMin: 15 }).alerta, false);
    assert.equal(
      toRow({ ...event, temperature: 20, battery: 14 }, "x", DEFAULT_ALERT_RULE).alerta,
      true,
    );
  });
  await t.step("the columns are exactly those of the table (dt_carga is the database's)", () => {
    assert.deepEqual(Object.keys(toRow(event, "x", DEFAULT_ALERT_RULE)).sort(), [
      "alerta",
      "bateria",
      "id",
      "id_dispositivo",
      "latitude",
      "longitude",
      "status",
      "temperatura",
      "timestamp",
      "timestamp_ts",
      "umidade",
    ]);
  });
});
