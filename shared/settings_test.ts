import assert from "node:assert/strict";
import { ConfigError, EnvReader } from "./env.ts";
import {
  acceptedText,
  defaultText,
  readSettings,
  settingJsonSchema,
  type SettingsTable,
} from "./settings.ts";

const TABLE = {
  COUNT: { type: "integer", default: 3, min: 1, max: 9, description: "A count." },
  RATIO: { type: "number", default: 0.5, min: 0, max: 1, description: "A share." },
  SEED: { type: "integer", min: 0, defaultText: "random", description: "Optional." },
  MODE: { type: "choice", values: ["a", "b"], default: "a", description: "A mode." },
  STYLE: { type: "choice", values: ["x", "y"], description: "Optional choice." },
  NAME: {
    type: "string",
    default: "n",
    pattern: "^[a-z]+$",
    check: (v: string) => /^[a-z]+$/.test(v) ? undefined : "must be lower-case letters",
    description: "A name.",
  },
  HOSTS: { type: "brokers", default: "localhost:9092", description: "Hosts." },
  CA: { type: "file", holds: "PEM certificates", description: "A CA." },
} as const satisfies SettingsTable;

function problems(env: Record<string, string>, readFile = (_: string) => ""): readonly string[] {
  const read = new EnvReader(env);
  readSettings(read, TABLE, readFile);
  try {
    read.done();
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

Deno.test("readSettings() gives the defaults, and undefined for rows without one", () => {
  const values = readSettings(new EnvReader({}), TABLE);
  assert.deepEqual(values, {
    COUNT: 3,
    RATIO: 0.5,
    SEED: undefined,
    MODE: "a",
    STYLE: undefined,
    NAME: "n",
    HOSTS: ["localhost:9092"],
    CA: undefined,
  });
});

Deno.test("readSettings() reads every type", () => {
  const pem = "-----BEGIN CERTIFICATE-----\n";
  const values = readSettings(
    new EnvReader({
      COUNT: "9",
      RATIO: "0",
      SEED: "0",
      MODE: "b",
      STYLE: "y",
      NAME: "abc",
      HOSTS: "k1:1,k2:2",
      CA: "/ca",
    }),
    TABLE,
    () => pem,
  );
  assert.deepEqual(values, {
    COUNT: 9,
    RATIO: 0,
    SEED: 0,
    MODE: "b",
    STYLE: "y",
    NAME: "abc",
    HOSTS: ["k1:1", "k2:2"],
    CA: "/ca",
  });
});

Deno.test("readSettings() reports every bad value in table order, naming the variable", () => {
  assert.deepEqual(
    problems({ CA: "/ca", STYLE: "z", SEED: "-1", COUNT: "10", NAME: "A" }, () => "no pem"),
    [
      'COUNT must be an integer from 1 to 9: got "10"',
      'SEED must be an integer >= 0: got "-1"',
      'STYLE must be one of x, y: got "z"',
      'NAME must be lower-case letters: got "A"',
      'CA holds no PEM certificate: got "/ca"',
    ],
  );
});

Deno.test("settingJsonSchema() carries type, bounds, allowed values, pattern and default", () => {
  assert.deepEqual(settingJsonSchema(TABLE.COUNT), {
    description: "A count.",
    type: "integer",
    minimum: 1,
    maximum: 9,
    default: 3,
  });
  assert.deepEqual(settingJsonSchema(TABLE.SEED), {
    description: "Optional.",
    type: "integer",
    minimum: 0,
  });
  assert.deepEqual(settingJsonSchema(TABLE.MODE), {
    description: "A mode.",
    type: "string",
    enum: ["a", "b"],
    default: "a",
  });
  assert.deepEqual(settingJsonSchema(TABLE.NAME), {
    description: "A name.",
    type: "string",
    pattern: "^[a-z]+$",
    default: "n",
  });
});

Deno.test("acceptedText() and defaultText() say a row's rule and default in words", () => {
  assert.equal(acceptedText(TABLE.COUNT), "integer, 1 to 9");
  assert.equal(acceptedText(TABLE.SEED), "integer, at least 0");
  assert.equal(acceptedText(TABLE.MODE), "`a`, `b`");
  assert.equal(acceptedText(TABLE.CA), "file holding PEM certificates");
  assert.equal(defaultText(TABLE.COUNT), "`3`");
  assert.equal(defaultText(TABLE.SEED), "random");
  assert.equal(defaultText(TABLE.CA), "—");
});
