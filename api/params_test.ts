import assert from "node:assert/strict";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  MAX_POINTS,
  parseAcknowledgeBody,
  parseAlertId,
  parseAlertsQuery,
  parseDevicesQuery,
  parseEventsQuery,
  parseHistoryQuery,
  parseNoQuery,
  parseRejectsQuery,
  parseStreamQuery,
} from "./params.ts";
import { ParameterError } from "./problem.ts";

const q = (text: string) => new URLSearchParams(text);

/** Asserts that `fn` throws a ParameterError naming `parameter`, with `message` in its text. */
function refuses(fn: () => unknown, parameter: string, message: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ParameterError, String(e));
    assert.equal(e.parameter, parameter);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("parseEventsQuery() reads every filter and defaults the limit", () => {
  assert.deepEqual(parseEventsQuery(q(""), 1000), {
    device: undefined,
    from: undefined,
    to: undefined,
    alert: undefined,
    limit: 100,
    after: undefined,
  });
  const cursor = encodeCursor({
    key: "2026-12-04T10:00:00.123456Z",
    id: "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d",
  });
  const parsed = parseEventsQuery(
    q(`device=d1&from=2026-12-04T00:00:00Z&to=2026-12-04T01:00:00.5-03:00&alert=true&limit=1000&cursor=${cursor}`),
    1000,
  );
  assert.equal(parsed.device, "d1");
  assert.equal(parsed.to, "2026-12-04T01:00:00.5-03:00");
  assert.equal(parsed.alert, true);
  assert.equal(parsed.limit, 1000);
  assert.equal(parsed.after?.id, "0b6f3a52-3f5e-4c8e-9d6a-2f1e0c9b8a7d");
  assert.equal(parseEventsQuery(q("alert=false"), 10).alert, false);
  assert.equal(parseEventsQuery(q(""), 10).limit, 10, "the default never exceeds the maximum");
});

Deno.test("parseEventsQuery() names the parameter at fault", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["limit=0", "limit", /limit must be an integer from 1 to 1000: got "0"/],
    ["limit=1001", "limit", /from 1 to 1000/],
    ["limit=5.5", "limit", /got "5.5"/],
    ["limit=", "limit", /got ""/],
    ["limt=5", "limt", /Unknown parameter "limt": accepted are device, from, to/],
    ["device=a&device=b", "device", /given twice/],
    ["device=", "device", /1 to 200 characters/],
    [`device=${"x".repeat(201)}`, "device", /1 to 200 characters/],
    ["from=2026-12-04", "from", /RFC 3339 time with its offset/],
    ["from=2026-12-04T10:00:00", "from", /RFC 3339/],
    ["from=2026-13-40T10:00:00Z", "from", /RFC 3339/],
    ["to=now", "to", /RFC 3339/],
    ["from=2026-12-05T00:00:00Z&to=2026-12-04T00:00:00Z", "from", /must not be after to/],
    ["alert=1", "alert", /true or false: got "1"/],
    ["cursor=%%%", "cursor", /next_cursor this endpoint returned/],
    [`cursor=${encodeCursor({ key: "2026-12-04T10:00:00Z", id: "x" })}`, "cursor", /next_cursor/],
  ];
  for (const [text, parameter, message] of cases) {
    await t.step(
      text.slice(0, 60),
      () => refuses(() => parseEventsQuery(q(text), 1000), parameter, message),
    );
  }
});

Deno.test("cursors round-trip and a cursor of another list is refused", () => {
  const key = { key: "sensor-ü-1", id: "" };
  assert.deepEqual(decodeCursor(encodeCursor(key)), key);
  assert.equal(decodeCursor("bm90IGpzb24"), undefined, "base64 of 'not json'");
  assert.equal(decodeCursor(btoa('{"a":1}').replace(/=+$/, "")), undefined);
  const deviceCursor = encodeCursor({ key: "d1", id: "" });
  assert.equal(parseDevicesQuery(q(`cursor=${deviceCursor}`), 10).after?.key, "d1");
  refuses(() => parseAlertsQuery(q(`cursor=${deviceCursor}`), 10), "cursor", /next_cursor/);
  refuses(() => parseRejectsQuery(q(`cursor=${deviceCursor}`), 10), "cursor", /next_cursor/);
  const rejectCursor = encodeCursor({ key: "", id: "42" });
  assert.equal(parseRejectsQuery(q(`cursor=${rejectCursor}`), 10).after?.id, "42");
});

Deno.test("parseHistoryQuery() defaults to the day before now and bounds points and range", () => {
  const now = new Date("2026-12-04T12:00:00Z");
  assert.deepEqual(parseHistoryQuery(q(""), now), {
    from: "2026-12-03T12:00:00.000Z",
    to: "2026-12-04T12:00:00.000Z",
    points: 200,
  });
  assert.equal(parseHistoryQuery(q(`points=${MAX_POINTS}`), now).points, MAX_POINTS);
  refuses(() => parseHistoryQuery(q(`points=${MAX_POINTS + 1}`), now), "points", /1 to 2000/);
  refuses(() => parseHistoryQuery(q("points=0"), now), "points", /1 to 2000/);
  refuses(
    () => parseHistoryQuery(q("from=2026-12-04T12:00:00Z&to=2026-12-04T12:00:00Z"), now),
    "from",
    /before to/,
  );
  refuses(
    () => parseHistoryQuery(q("from=2020-01-01T00:00:00Z"), now),
    "from",
    /longer than 366 days/,
  );
});

Deno.test("parseAlertsQuery() reads type and state, state defaulting to all", () => {
  assert.equal(parseAlertsQuery(q(""), 50).state, "all");
  const parsed = parseAlertsQuery(q("type=offline&state=open&device=d"), 50);
  assert.deepEqual([parsed.type, parsed.state, parsed.device], ["offline", "open", "d"]);
  refuses(
    () => parseAlertsQuery(q("type=hot"), 50),
    "type",
    /one of temperature_high, battery_low/,
  );
  refuses(() => parseAlertsQuery(q("state=closed"), 50), "state", /one of open, cleared, all/);
});

Deno.test("parseNoQuery(), parseStreamQuery() and parseAlertId()", () => {
  parseNoQuery(q(""));
  refuses(() => parseNoQuery(q("x=1")), "x", /accepted are none/);
  assert.deepEqual(parseStreamQuery(q("device=d&last_event_id=5:5:")), { device: "d" });
  assert.equal(parseAlertId("17"), "17");
  for (const bad of ["0", "-1", "1.5", "abc", "01", "99999999999999999999"]) {
    refuses(() => parseAlertId(bad), "id", /positive integer/);
  }
});

Deno.test("parseAcknowledgeBody() takes by and note, and nothing else", () => {
  assert.deepEqual(parseAcknowledgeBody('{"by":" ana ","note":"fan on"}'), {
    by: "ana",
    note: "fan on",
  });
  assert.deepEqual(parseAcknowledgeBody('{"by":"ana"}'), { by: "ana", note: "" });
  refuses(() => parseAcknowledgeBody("{"), "body", /must be a JSON object/);
  refuses(() => parseAcknowledgeBody("[1]"), "body", /JSON object with by and note/);
  refuses(() => parseAcknowledgeBody('{"by":"a","when":1}'), "body.when", /Unknown field "when"/);
  refuses(() => parseAcknowledgeBody('{"note":"x"}'), "body.by", /1 to 100 characters/);
  refuses(() => parseAcknowledgeBody('{"by":"  "}'), "body.by", /1 to 100/);
  refuses(() => parseAcknowledgeBody(`{"by":"${"a".repeat(101)}"}`), "body.by", /1 to 100/);
  refuses(() => parseAcknowledgeBody('{"by":"a","note":5}'), "body.note", /at most 2000/);
  refuses(
    () => parseAcknowledgeBody(`{"by":"a","note":"${"n".repeat(2001)}"}`),
    "body.note",
    /2000/,
  );
});
