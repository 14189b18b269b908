import assert from "node:assert/strict";
import {
  EARLIEST_TIMESTAMP_MS,
  kind,
  MAX_CLOCK_SKEW_MS,
  normalizeTimestamp,
  quote,
  type TimestampResult,
} from "./timestamp.ts";

/** The Kafka record timestamp of every test (the future bound counts from it): 2026-11-27T00:00:00Z. */
const NOW = Date.UTC(2026, 10, 27);

function accepted(raw: unknown, nowMs = NOW): { epochMs: number; iso: string } {
  const result = normalizeTimestamp(raw, nowMs);
  if (!result.ok) assert.fail(`${JSON.stringify(raw)} was refused: ${result.message}`);
  return result.value;
}

function refused(raw: unknown, nowMs = NOW): { code: string; message: string } {
  const result: TimestampResult = normalizeTimestamp(raw, nowMs);
  if (result.ok) assert.fail(`${String(raw)} was accepted as ${result.value.iso}`);
  return { code: result.code, message: result.message };
}

Deno.test("normalizeTimestamp() reads RFC 3339 zones and converts them to UTC", async (t) => {
  const cases: [string, string][] = [
    ["2026-11-26T10:15:30Z", "2026-11-26T10:15:30.000000Z"],
    ["2026-11-26T10:15:30+05:45", "2026-11-26T04:30:30.000000Z"],
    ["2026-11-26T10:15:30-03:00", "2026-11-26T13:15:30.000000Z"],
    ["2026-11-26T10:15:30-00:00", "2026-11-26T10:15:30.000000Z"],
    ["2026-11-26T10:15:30+00:00", "2026-11-26T10:15:30.000000Z"],
    ["2026-11-26T10:15:30+14:00", "2026-11-25T20:15:30.000000Z"],
    ["2026-11-26T10:15:30-12:00", "2026-11-26T22:15:30.000000Z"],
    // An offset that moves the instant into the previous year.
    ["2026-01-01T01:00:00+02:00", "2025-12-31T23:00:00.000000Z"],
  ];
  for (const [raw, iso] of cases) {
    await t.step(`${raw} is ${iso}`, () => {
      const value = accepted(raw);
      assert.equal(value.iso, iso);
      assert.equal(value.epochMs, Date.parse(iso));
    });
  }
});

Deno.test("normalizeTimestamp() accepts lowercase t and z and a space for T", async (t) => {
  const expected = "2026-11-26T10:15:30.000000Z";
  for (const raw of ["2026-11-26t10:15:30z", "2026-11-26 10:15:30Z", "2026-11-26t10:15:30Z"]) {
    await t.step(raw, () => assert.equal(accepted(raw).iso, expected));
  }
  await t.step("space with an offset", () => {
    assert.equal(accepted("2026-11-26 10:15:30-03:00").iso, "2026-11-26T13:15:30.000000Z");
  });
});

Deno.test("normalizeTimestamp() reads a text without zone as UTC", () => {
  assert.deepEqual(accepted("2026-11-26T10:15:30"), {
    epochMs: Date.UTC(2026, 10, 26, 10, 15, 30),
    iso: "2026-11-26T10:15:30.000000Z",
  });
  assert.equal(accepted("2026-11-26 10:15:30.25").iso, "2026-11-26T10:15:30.250000Z");
});

Deno.test("normalizeTimestamp() keeps 1 to 9 fraction digits, truncated to microseconds", async (t) => {
  const base = Date.UTC(2026, 10, 26, 10, 15, 30);
  const cases: [string, string, number][] = [
    ["1", "100000", 100],
    ["12", "120000", 120],
    ["123", "123000", 123],
    ["1234", "123400", 123],
    ["12345", "123450", 123],
    ["123456", "123456", 123],
    ["1234567", "123456", 123],
    ["12345678", "123456", 123],
    ["123456789", "123456", 123],
    ["000001", "000001", 0],
    // Truncated, never rounded: .9999999 must not roll over into the next second.
    ["999999999", "999999", 999],
  ];
  for (const [digits, micros, ms] of cases) {
    await t.step(`.${digits} -> .${micros}`, () => {
      const value = accepted(`2026-11-26T10:15:30.${digits}Z`);
      assert.equal(value.iso, `2026-11-26T10:15:30.${micros}Z`);
      assert.equal(value.epochMs, base + ms);
    });
  }
  await t.step("a fraction with an offset", () => {
    assert.equal(accepted("2026-11-26T10:15:30.5+05:45").iso, "2026-11-26T04:30:30.500000Z");
  });
  await t.step("ten digits are refused as invalid_format", () => {
    assert.equal(refused("2026-11-26T10:15:30.1234567891Z").code, "invalid_format");
  });
  await t.step("a dot without digits is refused as invalid_format", () => {
    assert.equal(refused("2026-11-26T10:15:30.Z").code, "invalid_format");
  });
});

Deno.test("normalizeTimestamp() clamps a leap second to :59.999999 of the same minute", async (t) => {
  await t.step("23:59:60Z", () => {
    assert.deepEqual(accepted("2016-12-31T23:59:60Z"), {
      epochMs: Date.UTC(2016, 11, 31, 23, 59, 59, 999),
      iso: "2016-12-31T23:59:59.999999Z",
    });
  });
  await t.step("a leap second with a fraction clamps the same way", () => {
    assert.equal(accepted("2016-12-31T23:59:60.5Z").iso, "2016-12-31T23:59:59.999999Z");
  });
  await t.step("a leap second in local time is converted with its offset", () => {
    assert.equal(accepted("2016-12-31T20:59:60-03:00").iso, "2016-12-31T23:59:59.999999Z");
  });
  await t.step("order is kept: after :59.5 and before the next minute", () => {
    const leap = accepted("2016-12-31T23:59:60Z").epochMs;
    assert.ok(leap > accepted("2016-12-31T23:59:59.5Z").epochMs);
    assert.ok(leap < accepted("2017-01-01T00:00:00Z").epochMs);
  });
  await t.step(
    "only at 23:59 UTC of a month's last day: :60 in any other minute is refused",
    () => {
      for (
        const raw of ["2026-11-26T10:15:60Z", "2016-12-31T23:59:60+01:00", "2016-12-30T23:59:60Z"]
      ) {
        assert.deepEqual(refused(raw), {
          code: "invalid_date",
          message: `has a leap second (:60) outside 23:59 UTC of a month's last day: got "${raw}"`,
        });
      }
      assert.equal(accepted("2015-06-30T23:59:60Z").iso, "2015-06-30T23:59:59.999999Z");
    },
  );
  await t.step("second 61 does not exist", () => {
    assert.deepEqual(refused("2016-12-31T23:59:61Z"), {
      code: "invalid_date",
      message: 'names a time of day that does not exist: got "2016-12-31T23:59:61Z"',
    });
  });
});

Deno.test("normalizeTimestamp() refuses dates that do not exist with invalid_date", async (t) => {
  const days: string[] = [
    "2026-02-30T12:00:00Z", // February 30
    "2025-02-29T12:00:00Z", // February 29 of a common year
    "2100-02-29T12:00:00Z", // 2100 is not a leap year (century rule)
    "2026-04-31T12:00:00Z", // April has 30 days
    "2026-13-01T12:00:00Z", // month 13
    "2026-00-10T12:00:00Z", // month 0
    "2026-11-00T12:00:00Z", // day 0
    "2026-12-32T12:00:00Z", // day 32
  ];
  for (const raw of days) {
    await t.step(raw, () => {
      assert.deepEqual(refused(raw), {
        code: "invalid_date",
        message: `names a day that does not exist: got "${raw}"`,
      });
    });
  }
  const times = ["2026-11-26T24:00:00Z", "2026-11-26T10:60:00Z", "2026-11-26T99:00:00Z"];
  for (const raw of times) {
    await t.step(raw, () => {
      assert.deepEqual(refused(raw), {
        code: "invalid_date",
        message: `names a time of day that does not exist: got "${raw}"`,
      });
    });
  }
  await t.step("February 29 of a leap year exists", () => {
    assert.equal(accepted("2024-02-29T12:00:00Z").iso, "2024-02-29T12:00:00.000000Z");
    assert.equal(accepted("2000-02-29T00:00:00Z").iso, "2000-02-29T00:00:00.000000Z");
  });
});

Deno.test("normalizeTimestamp() refuses an impossible UTC offset with invalid_format", async (t) => {
  for (const offset of ["+24:00", "-24:00", "+05:60", "+99:99"]) {
    await t.step(offset, () => {
      assert.deepEqual(refused(`2026-11-26T10:15:30${offset}`), {
        code: "invalid_format",
        message: `has an impossible UTC offset ${offset}`,
      });
    });
  }
  await t.step("+23:59 is the largest offset accepted", () => {
    assert.equal(accepted("2026-11-26T23:59:00+23:59").iso, "2026-11-26T00:00:00.000000Z");
  });
  await t.step("an offset without colon is not RFC 3339", () => {
    assert.equal(refused("2026-11-26T10:15:30+0545").code, "invalid_format");
  });
});

Deno.test("normalizeTimestamp() refuses instants before 2000-01-01 with out_of_range", async (t) => {
  await t.step("1999", () => {
    assert.deepEqual(refused("1999-12-31T23:59:59Z"), {
      code: "out_of_range",
      message: 'is before 2000-01-01T00:00:00Z: got "1999-12-31T23:59:59Z"',
    });
  });
  await t.step("the first instant of 2000 is accepted", () => {
    assert.equal(accepted("2000-01-01T00:00:00Z").epochMs, EARLIEST_TIMESTAMP_MS);
  });
  await t.step("the range is checked after the offset is applied", () => {
    // 2000-01-01T00:00 at +01:00 is 1999-12-31T23:00Z.
    assert.equal(refused("2000-01-01T00:00:00+01:00").code, "out_of_range");
    assert.equal(accepted("1999-12-31T23:00:00-01:00").iso, "2000-01-01T00:00:00.000000Z");
  });
  await t.step("year 0050 is not read as 1950 and then accepted", () => {
    assert.equal(refused("0050-06-01T00:00:00Z").code, "out_of_range");
  });
});

Deno.test("normalizeTimestamp() refuses instants more than 24 h after the record timestamp", async (t) => {
  const limit = NOW + MAX_CLOCK_SKEW_MS; // 2026-11-28T00:00:00Z
  await t.step("exactly now + 24 h is accepted", () => {
    assert.equal(accepted("2026-11-28T00:00:00Z").epochMs, limit);
    assert.equal(accepted(limit).epochMs, limit);
  });
  await t.step("one millisecond later is refused", () => {
    assert.deepEqual(refused("2026-11-28T00:00:00.001Z"), {
      code: "out_of_range",
      message:
        "is more than 24 hours ahead of its Kafka record's timestamp (2026-11-27T00:00:00.000Z): " +
        'got "2026-11-28T00:00:00.001Z"',
    });
    assert.equal(refused(limit + 1).code, "out_of_range");
  });
  await t.step("a year ahead is refused", () => {
    assert.equal(refused("2027-11-27T00:00:00Z").code, "out_of_range");
  });
  await t.step("the bound follows the clock passed in", () => {
    assert.equal(
      accepted("2027-11-27T00:00:00Z", Date.UTC(2027, 10, 27)).epochMs,
      Date.UTC(2027, 10, 27),
    );
  });
});

Deno.test("normalizeTimestamp() accepts integer epoch milliseconds", () => {
  const ms = Date.UTC(2026, 10, 26, 10, 15, 30, 123);
  assert.deepEqual(accepted(ms), { epochMs: ms, iso: "2026-11-26T10:15:30.123000Z" });
  assert.deepEqual(accepted(EARLIEST_TIMESTAMP_MS), {
    epochMs: EARLIEST_TIMESTAMP_MS,
    iso: "2000-01-01T00:00:00.000000Z",
  });
});

Deno.test("normalizeTimestamp() refuses non-integer epoch milliseconds with invalid_type", () => {
  assert.deepEqual(refused(1795688130123.5), {
    code: "invalid_type",
    message: "epoch milliseconds must be an integer: got 1795688130123.5",
  });
});

Deno.test("normalizeTimestamp() recognises epoch seconds and says what to send", async (t) => {
  await t.step("now in seconds", () => {
    assert.deepEqual(refused(1795688130), {
      code: "out_of_range",
      message:
        "1795688130 looks like epoch seconds; send epoch milliseconds (1795688130000) or RFC 3339",
    });
  });
  await t.step("2000-01-01 in seconds", () => {
    assert.match(refused(946684800).message, /looks like epoch seconds/);
  });
  await t.step("small numbers are plain out-of-range milliseconds", () => {
    assert.deepEqual(refused(0), {
      code: "out_of_range",
      message: 'is before 2000-01-01T00:00:00Z: got "0"',
    });
    assert.deepEqual(refused(-1), {
      code: "out_of_range",
      message: 'is before 2000-01-01T00:00:00Z: got "-1"',
    });
  });
});

Deno.test("normalizeTimestamp() hints that epoch milliseconds in a string must be a number", () => {
  assert.deepEqual(refused("1795688130123"), {
    code: "invalid_format",
    message: "cannot be parsed as RFC 3339 (YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]): " +
      'got "1795688130123" (epoch milliseconds must be a JSON number, not a string)',
  });
});

Deno.test("normalizeTimestamp() refuses texts that are not RFC 3339 without a hint", async (t) => {
  const texts = [
    "yesterday at noon",
    "",
    "2026-11-26",
    "10:15:30",
    "2026/11/26 10:15:30",
    "26-11-2026T10:15:30Z",
    "2026-11-26T10:15Z",
    "2026-11-26T10:15:30 Z",
    " 2026-11-26T10:15:30Z",
    "2026-11-26T10:15:30Z ",
    "2026-11-26T10:15:30UTC",
    "Thu, 26 Nov 2026 10:15:30 GMT",
    "+02026-11-26T10:15:30Z",
    "２０２６-11-26T10:15:30Z", // full-width digits
  ];
  for (const raw of texts) {
    await t.step(JSON.stringify(raw), () => {
      assert.deepEqual(refused(raw), {
        code: "invalid_format",
        message: `cannot be parsed as RFC 3339 (YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]): got ${
          JSON.stringify(raw)
        }`,
      });
    });
  }
});

Deno.test("normalizeTimestamp() refuses values that are neither string nor number", async (t) => {
  const cases: [unknown, string][] = [
    [null, "null"],
    [undefined, "undefined"],
    [true, "boolean true"],
    [false, "boolean false"],
    [{ at: "2026-11-26T10:15:30Z" }, "an object"],
    [["2026-11-26T10:15:30Z"], "an array"],
    [1795688130123n, "bigint 1795688130123"],
  ];
  for (const [raw, shown] of cases) {
    await t.step(shown, () => {
      assert.deepEqual(refused(raw), {
        code: "invalid_type",
        message: `must be an RFC 3339 string or epoch milliseconds: got ${shown}`,
      });
    });
  }
});

Deno.test("normalizeTimestamp() refuses a text longer than 40 characters before parsing it", () => {
  const raw = "2026-11-26T10:15:30.123456789+05:45" + "x".repeat(6);
  assert.equal(raw.length, 41);
  assert.deepEqual(refused(raw), {
    code: "invalid_format",
    message: "is 41 characters long; at most 40 are accepted",
  });
  // The longest valid text (35 characters) is accepted.
  assert.equal(accepted("2026-11-26T10:15:30.123456789+05:45").iso, "2026-11-26T04:30:30.123456Z");
  // A megabyte of text is refused without being quoted back.
  const huge = refused("9".repeat(1_000_000));
  assert.equal(huge.message, "is 1000000 characters long; at most 40 are accepted");
});

Deno.test("normalizeTimestamp() refuses Infinity and NaN as not finite", async (t) => {
  for (const raw of [Infinity, -Infinity, NaN]) {
    await t.step(String(raw), () => {
      assert.deepEqual(refused(raw), {
        code: "invalid_type",
        message: "must be a finite number of epoch milliseconds",
      });
    });
  }
});

Deno.test("kind() and quote() describe values for error messages", () => {
  assert.equal(kind(null), "null");
  assert.equal(kind([1]), "an array");
  assert.equal(kind({}), "an object");
  assert.equal(kind("x"), 'a string "x"');
  assert.equal(kind(42), "number 42");
  assert.equal(kind(false), "boolean false");
  assert.equal(quote('a"b\n'), '"a\\"b\\n"');
  assert.equal(quote("abcdef", 3), '"abc…"');
  assert.equal(quote("x".repeat(60)), JSON.stringify("x".repeat(60)));
  assert.equal(quote("x".repeat(61)), JSON.stringify(`${"x".repeat(60)}…`));
});

Deno.test("normalizeTimestamp() gives the same instant for UTC text as for the same instant offset", () => {
  // UTC input takes a shortcut that copies the fields; an offset goes through Date arithmetic.
  // Both must agree on every day of a leap and a common year, at every fraction length.
  const now = Date.UTC(2030, 0, 1);
  for (let day = 0; day < 2 * 366; day++) {
    const ms = Date.UTC(2024, 0, 1) + day * 86_400_000 + ((day * 7_919_993) % 86_400_000);
    const utc = new Date(ms).toISOString().slice(0, 19);
    const shifted = new Date(ms + 90 * 60_000).toISOString().slice(0, 19);
    const digits = "123456789".slice(0, 1 + (day % 9));
    const fast = normalizeTimestamp(`${utc}.${digits}Z`, now);
    const slow = normalizeTimestamp(`${shifted}.${digits}+01:30`, now);
    assert.ok(fast.ok && slow.ok);
    assert.deepEqual(fast.value, slow.value);
    assert.equal(fast.value.iso, `${utc}.${digits.padEnd(6, "0").slice(0, 6)}Z`);
  }
});
