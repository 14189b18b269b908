import assert from "node:assert/strict";
import { FIELDS, MAX_KEYS, MAX_PAYLOAD_BYTES } from "./event.ts";
import {
  parsePayload,
  type Reason,
  type SensorEvent,
  validateEvent,
  validateObject,
} from "./validate.ts";
import { SAMPLE_EVENT } from "../testing/payloads.ts";

const CANONICAL: Readonly<Record<string, unknown>> = SAMPLE_EVENT;

/** The Kafka record timestamp of every test (the future bound counts from it): 2026-11-27T00:00:00Z. */
const NOW = Date.UTC(2026, 10, 27);

const EXPECTED_EVENT: SensorEvent = {
  id: "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
  deviceId: "sensor-0001",
  timestampText: "2026-11-26T10:15:30-03:00",
  timestamp: { epochMs: Date.UTC(2026, 10, 26, 13, 15, 30), iso: "2026-11-26T13:15:30.000000Z" },
  temperature: 36.2,
  humidity: 55,
  latitude: -23.55,
  longitude: -46.63,
  status: "WARN",
  battery: 80,
};

const encoder = new TextEncoder();

function withField(key: string, value: unknown): Record<string, unknown> {
  return { ...CANONICAL, [key]: value };
}

function without(...keys: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...CANONICAL };
  for (const key of keys) delete copy[key];
  return copy;
}

function valid(payload: Record<string, unknown> | string | Uint8Array): SensorEvent {
  const text = typeof payload === "object" && !(payload instanceof Uint8Array)
    ? JSON.stringify(payload)
    : payload;
  const result = validateEvent(text, NOW);
  if (!result.ok) assert.fail(`refused: ${JSON.stringify(result.reasons)}`);
  return result.event;
}

function reasons(payload: Record<string, unknown> | string | Uint8Array | null): Reason[] {
  const text = payload !== null && typeof payload === "object" && !(payload instanceof Uint8Array)
    ? JSON.stringify(payload)
    : payload;
  const result = validateEvent(text, NOW);
  if (result.ok) assert.fail(`accepted: ${JSON.stringify(result.event)}`);
  return result.reasons;
}

/** The one reason a payload is refused for (fails when there are several). */
function onlyReason(payload: Record<string, unknown> | string | Uint8Array | null): Reason {
  const all = reasons(payload);
  assert.equal(all.length, 1, `expected one reason, got ${JSON.stringify(all)}`);
  return all[0];
}

Deno.test("validateEvent() accepts the canonical payload and normalizes it", async (t) => {
  await t.step("as text", () => assert.deepEqual(valid(CANONICAL), EXPECTED_EVENT));
  await t.step("as UTF-8 bytes", () => {
    assert.deepEqual(valid(encoder.encode(JSON.stringify(CANONICAL))), EXPECTED_EVENT);
  });
  await t.step("pretty-printed JSON with whitespace", () => {
    assert.deepEqual(valid(JSON.stringify(CANONICAL, null, 2)), EXPECTED_EVENT);
  });
  await t.step("key order does not matter", () => {
    const reversed = Object.fromEntries(Object.entries(CANONICAL).reverse());
    assert.deepEqual(valid(reversed), EXPECTED_EVENT);
  });
  await t.step("epoch milliseconds keep their decimal text", () => {
    const event = valid(withField("TIMESTAMP", 1795688130123));
    assert.equal(event.timestampText, "1795688130123");
    assert.equal(event.timestamp.iso, "2026-11-26T10:15:30.123000Z");
  });
  await t.step("validateObject() gives the same result on the parsed object", () => {
    assert.deepEqual(validateObject({ ...CANONICAL }, NOW), { ok: true, event: EXPECTED_EVENT });
  });
});

Deno.test("validateEvent() accepts every alias in place of its canonical key", async (t) => {
  const aliases: [string, string][] = [
    ["ID_DISPOSITIVO", "device_id"],
    ["TIMESTAMP", "timestamp"],
    ["TEMPERATURA", "temperature"],
    ["UMIDADE", "humidity"],
    ["UMIDADE", "HUMIDADE"],
    ["LATITUDE", "latitude"],
    ["LONGITUDE", "longitude"],
    ["STATUS", "status"],
    ["BATERIA", "battery"],
  ];
  await t.step("the table lists exactly these aliases", () => {
    const fromTable = FIELDS.flatMap((f) => f.aliases.map((a) => [f.key, a]));
    assert.deepEqual(
      fromTable.map((p) => p.join("=")).sort(),
      aliases.map((p) => p.join("=")).sort(),
    );
  });
  for (const [key, alias] of aliases) {
    await t.step(`${alias} for ${key}`, () => {
      const payload = without(key);
      payload[alias] = CANONICAL[key as keyof typeof CANONICAL];
      assert.deepEqual(valid(payload), EXPECTED_EVENT);
    });
  }
});

Deno.test("validateEvent() accepts the legacy all-lowercase payload without ID", () => {
  const legacy = {
    device_id: "sensor-0042-abc123",
    timestamp: "2026-11-26T10:15:30Z",
    temperature: 21.5,
    humidity: 60.2,
    latitude: -15.79,
    longitude: -47.88,
    status: "OK",
    battery: 99.9,
  };
  assert.deepEqual(valid(legacy), {
    id: undefined,
    deviceId: "sensor-0042-abc123",
    timestampText: "2026-11-26T10:15:30Z",
    timestamp: { epochMs: Date.UTC(2026, 10, 26, 10, 15, 30), iso: "2026-11-26T10:15:30.000000Z" },
    temperature: 21.5,
    humidity: 60.2,
    latitude: -15.79,
    longitude: -47.88,
    status: "OK",
    battery: 99.9,
  });
});

Deno.test("validateEvent() refuses a field given under two spellings with different values", async (t) => {
  await t.step("TEMPERATURA and temperature", () => {
    assert.deepEqual(onlyReason({ ...CANONICAL, temperature: 20 }), {
      field: "TEMPERATURA",
      code: "conflicting_alias",
      message: "TEMPERATURA is given twice with different values, as TEMPERATURA and temperature",
    });
  });
  await t.step("HUMIDADE and humidity without UMIDADE", () => {
    assert.deepEqual(onlyReason({ ...without("UMIDADE"), HUMIDADE: 50, humidity: 51 }), {
      field: "UMIDADE",
      code: "conflicting_alias",
      message: "UMIDADE is given twice with different values, as HUMIDADE and humidity",
    });
  });
  await t.step("a number and the same number as text differ", () => {
    assert.equal(onlyReason({ ...CANONICAL, battery: "80" }).code, "conflicting_alias");
  });
  await t.step("ID_DISPOSITIVO and device_id", () => {
    const reason = onlyReason({ ...CANONICAL, device_id: "sensor-0002" });
    assert.equal(reason.field, "ID_DISPOSITIVO");
    assert.equal(reason.code, "conflicting_alias");
  });
});

Deno.test("validateEvent() accepts a field given under two spellings with equal values", () => {
  const event = valid({
    ...CANONICAL,
    temperature: 36.2,
    HUMIDADE: 55,
    humidity: 55,
    status: "WARN",
    timestamp: "2026-11-26T10:15:30-03:00",
  });
  assert.deepEqual(event, EXPECTED_EVENT);
});

Deno.test(
  {
    name: "validateEvent() accepts 0 and -0 as equal values of two spellings",
  },
  () => {
    // JSON.stringify writes -0 as 0, so the text is written by hand.
    const text = JSON.stringify({ ...CANONICAL, TEMPERATURA: 0 }).replace(
      "}",
      ',"temperature":-0}',
    );
    assert.match(text, /"TEMPERATURA":0,.*"temperature":-0\}$/);
    assert.equal(valid(text).temperature, 0);
  },
);

Deno.test("validateEvent() treats ID as optional and normalizes it to lower case", async (t) => {
  await t.step("absent ID gives an event without id", () => {
    assert.deepEqual(valid(without("ID")), { ...EXPECTED_EVENT, id: undefined });
  });
  await t.step("upper-case UUID is lower-cased", () => {
    const event = valid(withField("ID", "0B6F3A52-3F5E-4C8E-9D6A-2F1E0C9B8A7D"));
    assert.equal(event.id, "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d");
  });
  await t.step("any UUID version is accepted", () => {
    assert.equal(
      valid(withField("ID", "6d8ac060-de7a-5f53-b002-770af7ff28b3")).id,
      "6d8ac060-de7a-5f53-b002-770af7ff28b3",
    );
  });
});

Deno.test("validateEvent() refuses an ID that is not a UUID", async (t) => {
  const badTexts = [
    "not-a-uuid",
    "0b6f3a523f5e4c8e9d6a2f1e0c9b8a7d", // no hyphens
    "{0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d}", // braces
    "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7g", // g is not hex
    "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d0", // one digit too many
    " 0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
    "",
  ];
  for (const id of badTexts) {
    await t.step(JSON.stringify(id), () => {
      assert.deepEqual(onlyReason(withField("ID", id)), {
        field: "ID",
        code: "invalid_format",
        message: `ID must be a UUID (8-4-4-4-12 hex): got ${JSON.stringify(id)}`,
      });
    });
  }
  await t.step("a number", () => {
    assert.deepEqual(onlyReason(withField("ID", 42)), {
      field: "ID",
      code: "invalid_type",
      message: "ID must be a UUID string: got number 42",
    });
  });
  await t.step("null", () => {
    assert.deepEqual(onlyReason(withField("ID", null)), {
      field: "ID",
      code: "invalid_type",
      message: "ID must be a UUID string: got null",
    });
  });
});

Deno.test("validateEvent() refuses each missing required field with one reason naming it", async (t) => {
  const spellings: Record<string, string> = {
    ID_DISPOSITIVO: "ID_DISPOSITIVO or device_id",
    TIMESTAMP: "TIMESTAMP or timestamp",
    TEMPERATURA: "TEMPERATURA or temperature",
    UMIDADE: "UMIDADE or HUMIDADE or humidity",
    LATITUDE: "LATITUDE or latitude",
    LONGITUDE: "LONGITUDE or longitude",
    STATUS: "STATUS or status",
    BATERIA: "BATERIA or battery",
  };
  assert.deepEqual(
    FIELDS.filter((f) => f.required).map((f) => f.key),
    Object.keys(spellings),
  );
  for (const [key, names] of Object.entries(spellings)) {
    await t.step(key, () => {
      assert.deepEqual(onlyReason(without(key)), {
        field: key,
        code: "missing_field",
        message: `${key} is missing (send it as ${names})`,
      });
    });
  }
});

Deno.test("validateEvent() checks every numeric field's type and range", async (t) => {
  const numeric: [string, number, number, string][] = [
    ["TEMPERATURA", -50, 100, "°C"],
    ["UMIDADE", 0, 100, "%"],
    ["LATITUDE", -90, 90, "°"],
    ["LONGITUDE", -180, 180, "°"],
    ["BATERIA", 0, 100, "%"],
  ];
  for (const [key, min, max, unit] of numeric) {
    await t.step(`${key} refuses a boolean with invalid_type`, () => {
      assert.deepEqual(onlyReason(withField(key, true)), {
        field: key,
        code: "invalid_type",
        message: `${key} must be a JSON number: got boolean true`,
      });
    });
    await t.step(`${key} refuses null, an object and an array with invalid_type`, () => {
      assert.equal(
        onlyReason(withField(key, null)).message,
        `${key} must be a JSON number: got null`,
      );
      assert.equal(
        onlyReason(withField(key, { value: 1 })).message,
        `${key} must be a JSON number: got an object`,
      );
      assert.equal(
        onlyReason(withField(key, [1])).message,
        `${key} must be a JSON number: got an array`,
      );
    });
    await t.step(`${key} refuses a number sent as a string with invalid_type`, () => {
      assert.deepEqual(onlyReason(withField(key, "12.5")), {
        field: key,
        code: "invalid_type",
        message: `${key} must be a JSON number: got a string "12.5"`,
      });
    });
    for (const outside of [min - 0.001, max + 0.001, min - 1000, max + 1000]) {
      await t.step(`${key} refuses ${outside} with out_of_range`, () => {
        assert.deepEqual(onlyReason(withField(key, outside)), {
          field: key,
          code: "out_of_range",
          message: `${key} must be between ${min} and ${max} ${unit}: got ${outside}`,
        });
      });
    }
    await t.step(`${key} accepts its exact bounds ${min} and ${max}`, () => {
      const lookup: Record<string, keyof SensorEvent> = {
        TEMPERATURA: "temperature",
        UMIDADE: "humidity",
        LATITUDE: "latitude",
        LONGITUDE: "longitude",
        BATERIA: "battery",
      };
      assert.equal(valid(withField(key, min))[lookup[key]], min);
      assert.equal(valid(withField(key, max))[lookup[key]], max);
    });
  }
});

Deno.test("validateEvent() refuses a humidity above 100 with out_of_range", () => {
  assert.deepEqual(onlyReason(withField("UMIDADE", 140)), {
    field: "UMIDADE",
    code: "out_of_range",
    message: "UMIDADE must be between 0 and 100 %: got 140",
  });
});

Deno.test("validateEvent() names the alias a bad value was sent as", () => {
  assert.deepEqual(onlyReason({ ...without("UMIDADE"), HUMIDADE: 140 }), {
    field: "UMIDADE",
    code: "out_of_range",
    message: "UMIDADE (sent as HUMIDADE) must be between 0 and 100 %: got 140",
  });
  assert.deepEqual(onlyReason({ ...without("TEMPERATURA"), temperature: "hot" }), {
    field: "TEMPERATURA",
    code: "invalid_type",
    message: 'TEMPERATURA (sent as temperature) must be a JSON number: got a string "hot"',
  });
});

Deno.test("validateEvent() refuses 1e400 as a number that is not finite", () => {
  const text = JSON.stringify(CANONICAL).replace('"TEMPERATURA":36.2', '"TEMPERATURA":1e400');
  assert.match(text, /1e400/);
  assert.deepEqual(onlyReason(text), {
    field: "TEMPERATURA",
    code: "invalid_type",
    message: "TEMPERATURA must be a finite number",
  });
  const negative = JSON.stringify(CANONICAL).replace('"BATERIA":80', '"BATERIA":-1e400');
  assert.equal(onlyReason(negative).message, "BATERIA must be a finite number");
});

Deno.test("validateEvent() accepts STATUS only as OK, WARN or ERROR in exact case", async (t) => {
  for (const status of ["OK", "WARN", "ERROR"]) {
    await t.step(status, () => assert.equal(valid(withField("STATUS", status)).status, status));
  }
  for (const status of ["ok", "Warn", "error", "OK ", "", "ALERT"]) {
    await t.step(`refuses ${JSON.stringify(status)} with invalid_value`, () => {
      assert.deepEqual(onlyReason(withField("STATUS", status)), {
        field: "STATUS",
        code: "invalid_value",
        message: `STATUS must be one of OK, WARN, ERROR (exact case): got ${
          JSON.stringify(status)
        }`,
      });
    });
  }
  await t.step("refuses a number with invalid_type", () => {
    assert.deepEqual(onlyReason(withField("STATUS", 1)), {
      field: "STATUS",
      code: "invalid_type",
      message: "STATUS must be a string: got number 1",
    });
  });
});

Deno.test("validateEvent() accepts device ids of letters and digits of any script", async (t) => {
  const ids = [
    "sensor-0001",
    "S",
    "7",
    "датчик-7", // Cyrillic
    "温度计_3", // Chinese
    "センサー.12", // Japanese (ー is a modifier letter)
    "مستشعر:1", // Arabic
    "αισθητήρας/2", // Greek
    "ñandú-9",
    "a".repeat(64),
    "д".repeat(64), // 64 characters, 128 bytes
    "𝒜".repeat(64), // 64 characters outside the BMP (128 UTF-16 units)
  ];
  for (const id of ids) {
    await t.step(id, () => assert.equal(valid(withField("ID_DISPOSITIVO", id)).deviceId, id));
  }
});

Deno.test(
  {
    name: "validateEvent() accepts device ids in scripts written with combining marks",
  },
  () => {
    for (const id of ["सेंसर-1", "เซ็นเซอร์-2", "cafe\u0301-3"]) {
      assert.equal(valid(withField("ID_DISPOSITIVO", id)).deviceId, id.normalize("NFC"));
    }
  },
);

Deno.test("validateEvent() stores a device id in NFC: precomposed and decomposed spellings are one device", () => {
  const precomposed = valid(withField("ID_DISPOSITIVO", "caf\u00e9-3")).deviceId;
  const decomposed = valid(withField("ID_DISPOSITIVO", "cafe\u0301-3")).deviceId;
  assert.equal(decomposed, precomposed);
  assert.equal(precomposed, "caf\u00e9-3");
  // 64 characters once composed, 128 code points as sent: the limit is on the stored form.
  assert.equal(
    valid(withField("ID_DISPOSITIVO", "e\u0301".repeat(64))).deviceId,
    "\u00e9".repeat(64),
  );
});

Deno.test("validateEvent() refuses device ids with quotes, spaces, control codes or 65 characters", async (t) => {
  const ids: [string, string][] = [
    ["sensor'1", "single quote"],
    ['sensor"1', "double quote"],
    ["sensor 1", "space"],
    ["sensor\u00a01", "no-break space"],
    ["sensor\t1", "tab"],
    ["sensor\u00001", "NUL"],
    ["sensor-1\n", "trailing newline"],
    ["sensor\u001b[31m", "escape sequence"],
    ["sensor;1", "semicolon"],
    ["-sensor", "leading hyphen"],
    [".sensor", "leading dot"],
    ["", "empty"],
    ["a".repeat(65), "65 characters"],
    ["sensor'; DROP TABLE tb_sensor_evento; --", "SQL"],
  ];
  for (const [id, what] of ids) {
    await t.step(what, () => {
      assert.deepEqual(onlyReason(withField("ID_DISPOSITIVO", id)), {
        field: "ID_DISPOSITIVO",
        code: "invalid_format",
        message: "ID_DISPOSITIVO must be 1-64 letters or digits (any script) or . _ : / - , " +
          `starting with a letter or digit: got ${
            JSON.stringify(id.length > 60 ? `${id.slice(0, 60)}…` : id)
          }`,
      });
    });
  }
  await t.step("a number is refused with invalid_type", () => {
    assert.deepEqual(onlyReason(withField("ID_DISPOSITIVO", 17)), {
      field: "ID_DISPOSITIVO",
      code: "invalid_type",
      message: "ID_DISPOSITIVO must be a string: got number 17",
    });
  });
});

Deno.test("validateEvent() refuses an empty payload or a tombstone with payload_empty", async (t) => {
  const empty: Reason = {
    field: "payload",
    code: "payload_empty",
    message: "payload is empty (a JSON object was expected)",
  };
  await t.step("null (Kafka tombstone)", () => assert.deepEqual(onlyReason(null), empty));
  await t.step("empty text", () => assert.deepEqual(onlyReason(""), empty));
  await t.step("zero bytes", () => assert.deepEqual(onlyReason(new Uint8Array()), empty));
});

Deno.test("validateEvent() refuses bytes that are not UTF-8 with not_utf8", async (t) => {
  const notUtf8: Reason = {
    field: "payload",
    code: "not_utf8",
    message: "payload is not valid UTF-8 text",
  };
  const cases: [string, number[]][] = [
    ["a lone 0xFF", [0x7b, 0xff, 0x7d]],
    ["Latin-1 é inside a string", [...encoder.encode('{"ID_DISPOSITIVO":"caf'), 0xe9, 0x22, 0x7d]],
    ["an overlong NUL", [0x7b, 0xc0, 0x80, 0x7d]],
    ["an encoded surrogate", [0x7b, 0xed, 0xa0, 0x80, 0x7d]],
    ["a truncated sequence", [0x7b, 0xe2, 0x82]],
  ];
  for (const [what, bytes] of cases) {
    await t.step(what, () => assert.deepEqual(onlyReason(new Uint8Array(bytes)), notUtf8));
  }
});

Deno.test("validateEvent() tells a U+FFFD sent as such from broken bytes, and keeps a BOM", async (t) => {
  // The decoder that runs first replaces broken bytes with U+FFFD: one sent on purpose is valid.
  await t.step("U+FFFD in the device id is refused by its rule, not as not_utf8", () => {
    const bytes = encoder.encode(JSON.stringify(withField("ID_DISPOSITIVO", "a\uFFFDb")));
    assert.deepEqual(reasons(bytes).map((r) => [r.field, r.code]), [
      ["ID_DISPOSITIVO", "invalid_format"],
    ]);
  });
  await t.step("U+FFFD in an ignored key is accepted", () => {
    const bytes = encoder.encode(JSON.stringify({ ...CANONICAL, note: "\uFFFD" }));
    assert.equal(valid(bytes).deviceId, CANONICAL.ID_DISPOSITIVO);
  });
  await t.step("a leading BOM is kept, so the text is not JSON", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode(JSON.stringify(CANONICAL))]);
    assert.equal(onlyReason(bytes).code, "not_json");
  });
});

Deno.test("validateEvent() refuses text that is not JSON with not_json", async (t) => {
  await t.step("plain text", () => {
    const reason = onlyReason("ID_DISPOSITIVO=sensor-1;TEMPERATURA=20");
    assert.equal(reason.field, "payload");
    assert.equal(reason.code, "not_json");
    assert.match(reason.message, /^payload is not valid JSON: .+/);
  });
  await t.step("truncated JSON", () => {
    const json = JSON.stringify(CANONICAL);
    const reason = onlyReason(json.slice(0, json.length - 1));
    assert.equal(reason.code, "not_json");
    assert.match(reason.message, /^payload is not valid JSON: /);
  });
  await t.step("JSON with a trailing comma", () => {
    assert.equal(onlyReason('{"ID_DISPOSITIVO":"a",}').code, "not_json");
  });
  await t.step("single-quoted pseudo JSON", () => {
    assert.equal(onlyReason("{'ID_DISPOSITIVO':'a'}").code, "not_json");
  });
});

Deno.test("validateEvent() refuses JSON that is not an object with not_object", async (t) => {
  const cases: [string, string][] = [
    [JSON.stringify([CANONICAL]), "an array"],
    ["[]", "an array"],
    ['"sensor"', 'a string "sensor"'],
    ["42", "number 42"],
    ["true", "boolean true"],
    ["null", "null"],
  ];
  for (const [text, shown] of cases) {
    await t.step(text.slice(0, 20), () => {
      assert.deepEqual(onlyReason(text), {
        field: "payload",
        code: "not_object",
        message: `payload must be a JSON object: got ${shown}`,
      });
    });
  }
});

Deno.test("validateEvent() refuses payloads over MAX_PAYLOAD_BYTES with payload_too_large", async (t) => {
  /** The canonical payload padded with an unknown key to exactly `bytes` UTF-8 bytes. */
  const padded = (bytes: number) => {
    const base = JSON.stringify({ ...CANONICAL, pad: "" });
    const room = bytes - encoder.encode(base).length;
    const text = JSON.stringify({ ...CANONICAL, pad: "x".repeat(room) });
    assert.equal(encoder.encode(text).length, bytes);
    return text;
  };
  await t.step("exactly MAX_PAYLOAD_BYTES is accepted, as text and as bytes", () => {
    const text = padded(MAX_PAYLOAD_BYTES);
    assert.deepEqual(valid(text), EXPECTED_EVENT);
    assert.deepEqual(valid(encoder.encode(text)), EXPECTED_EVENT);
  });
  await t.step("one byte more is refused, as bytes", () => {
    assert.deepEqual(onlyReason(encoder.encode(padded(MAX_PAYLOAD_BYTES + 1))), {
      field: "payload",
      code: "payload_too_large",
      message: `payload is ${
        MAX_PAYLOAD_BYTES + 1
      } bytes; at most ${MAX_PAYLOAD_BYTES} are accepted`,
    });
  });
  await t.step("one byte more is refused, as text", () => {
    assert.equal(onlyReason(padded(MAX_PAYLOAD_BYTES + 1)).code, "payload_too_large");
  });
  await t.step("large bytes are refused before decoding, even when not UTF-8", () => {
    assert.deepEqual(onlyReason(new Uint8Array(MAX_PAYLOAD_BYTES + 1).fill(0xff)), {
      field: "payload",
      code: "payload_too_large",
      message: `payload is ${
        MAX_PAYLOAD_BYTES + 1
      } bytes; at most ${MAX_PAYLOAD_BYTES} are accepted`,
    });
  });
  await t.step("multi-byte text: fewer characters than the limit but more bytes", () => {
    const text = JSON.stringify({ ...CANONICAL, pad: "€".repeat(3000) }); // 9000+ bytes
    assert.ok(text.length < MAX_PAYLOAD_BYTES);
    const bytes = encoder.encode(text).length;
    assert.deepEqual(onlyReason(text), {
      field: "payload",
      code: "payload_too_large",
      message: `payload is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES} are accepted`,
    });
  });
  await t.step(
    "multi-byte text: exactly the limit, mostly in 3-byte characters, is accepted",
    () => {
      const room = MAX_PAYLOAD_BYTES -
        encoder.encode(JSON.stringify({ ...CANONICAL, pad: "" })).length;
      const pad = "€".repeat(Math.floor(room / 3)) + "x".repeat(room % 3);
      const text = JSON.stringify({ ...CANONICAL, pad });
      assert.equal(encoder.encode(text).length, MAX_PAYLOAD_BYTES);
      assert.ok(text.length * 3 > MAX_PAYLOAD_BYTES, "the byte recount must be exercised");
      assert.deepEqual(valid(text), EXPECTED_EVENT);
    },
  );
  await t.step("ASCII text with more than a third of the limit in characters is accepted", () => {
    assert.deepEqual(valid(padded(MAX_PAYLOAD_BYTES - 100)), EXPECTED_EVENT);
  });
});

Deno.test("validateEvent() refuses more than MAX_KEYS keys with too_many_keys", async (t) => {
  const withKeys = (count: number) => {
    const payload: Record<string, unknown> = { ...CANONICAL };
    for (let i = 0; Object.keys(payload).length < count; i++) payload[`extra_${i}`] = i;
    return payload;
  };
  await t.step(`${MAX_KEYS} keys are accepted`, () => {
    assert.deepEqual(valid(withKeys(MAX_KEYS)), EXPECTED_EVENT);
  });
  await t.step(`${MAX_KEYS + 1} keys are refused`, () => {
    assert.deepEqual(onlyReason(withKeys(MAX_KEYS + 1)), {
      field: "payload",
      code: "too_many_keys",
      message: `payload has ${MAX_KEYS + 1} keys; at most ${MAX_KEYS} are accepted`,
    });
  });
});

Deno.test("validateEvent() ignores unknown extra keys", () => {
  const event = valid({
    ...CANONICAL,
    firmware: "1.2.3",
    rssi: -71,
    nested: { deep: [1, 2, 3] },
    id: "lower-case id is not ID",
    Temperatura: "not an alias",
  });
  assert.deepEqual(event, EXPECTED_EVENT);
});

Deno.test("validateEvent() reports every problem of a payload at once, in field order", () => {
  const all = reasons({
    ID: "nope",
    ID_DISPOSITIVO: "bad id",
    TIMESTAMP: "yesterday",
    TEMPERATURA: "hot",
    UMIDADE: 140,
    STATUS: "ok",
  });
  assert.deepEqual(all.map((r) => `${r.field}:${r.code}`), [
    "ID:invalid_format",
    "ID_DISPOSITIVO:invalid_format",
    "TIMESTAMP:invalid_format",
    "TEMPERATURA:invalid_type",
    "UMIDADE:out_of_range",
    "LATITUDE:missing_field",
    "LONGITUDE:missing_field",
    "STATUS:invalid_value",
    "BATERIA:missing_field",
  ]);
  for (const reason of all) assert.ok(reason.message.startsWith(reason.field), reason.message);
});

Deno.test("validateEvent() reports too_many_keys together with field problems", () => {
  const payload: Record<string, unknown> = { ...CANONICAL, UMIDADE: -1 };
  for (let i = 0; i < MAX_KEYS; i++) payload[`extra_${i}`] = i;
  assert.deepEqual(reasons(payload).map((r) => r.code), ["too_many_keys", "out_of_range"]);
});

Deno.test("validateEvent() reports each field's timestamp error code as the field's code", async (t) => {
  const cases: [unknown, string][] = [
    ["2026-02-30T12:00:00Z", "invalid_date"],
    ["yesterday", "invalid_format"],
    [1795688130, "out_of_range"],
    ["1999-12-31T23:59:59Z", "out_of_range"],
    [true, "invalid_type"],
  ];
  for (const [value, code] of cases) {
    await t.step(`${JSON.stringify(value)} -> ${code}`, () => {
      const reason = onlyReason(withField("TIMESTAMP", value));
      assert.equal(reason.field, "TIMESTAMP");
      assert.equal(reason.code, code);
      assert.match(reason.message, /^TIMESTAMP /);
    });
  }
  await t.step("the future bound uses the clock passed in", () => {
    const payload = JSON.stringify(withField("TIMESTAMP", "2026-11-29T00:00:00Z"));
    assert.equal(validateEvent(payload, NOW).ok, false);
    assert.equal(validateEvent(payload, Date.UTC(2026, 10, 29)).ok, true);
  });
});

Deno.test("parsePayload() returns the decoded object or the payload-level reason", () => {
  assert.deepEqual(parsePayload('{"a":1}'), { ok: true, value: { a: 1 }, text: '{"a":1}' });
  assert.deepEqual(parsePayload(encoder.encode('{"a":"ü"}')), {
    ok: true,
    value: { a: "ü" },
    text: '{"a":"ü"}',
  });
  const result = parsePayload("[1]");
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.reasons.map((r) => r.code), ["not_object"]);
});

Deno.test("validateEvent() refuses an identity key given twice with different values", () => {
  const text = JSON.stringify(CANONICAL).slice(0, -1) +
    ',"ID":"0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7e"}';
  const result = validateEvent(text, NOW);
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.reasons.map((r) => [r.field, r.code, r.message]), [
    ["ID", "conflicting_alias", "ID is given 2 times with different values"],
  ]);
  // The same value twice is one identity: accepted, as any repeated key is.
  const same = JSON.stringify(CANONICAL).slice(0, -1) + `,"ID":${JSON.stringify(CANONICAL.ID)}}`;
  assert.equal(validateEvent(same, NOW).ok, true);
  // A measurement repeated keeps the last value (JSON.parse), as before.
  assert.equal(
    validateEvent(JSON.stringify(CANONICAL).slice(0, -1) + ',"UMIDADE":77}', NOW).ok,
    true,
  );
});
