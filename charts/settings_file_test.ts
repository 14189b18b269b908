/**
 * The settings tables against what is written from them: the README's tables, the chart's env
 * schema, env defaults and _settings.tpl; and the chart's schema against the services' readers,
 * bound by bound.
 */

import assert from "node:assert/strict";
// A standard JSON Schema validator (test-only, so not in the import map).
import { Ajv } from "ajv";
import { ConfigError, type Setting } from "@iot/shared/runtime";
import { loadConsumerConfig } from "../consumer/config.ts";
import { loadProducerConfig } from "../producer/config.ts";
import { loadApiConfig } from "../api/config.ts";
import { CHART_SERVICES, chartEnvSettings, GENERATED } from "../scripts/settings.ts";

Deno.test("the README, values.schema.json, values.yaml and _settings.tpl match the settings tables", async (t) => {
  for (const { file, make } of GENERATED) {
    const name = file.pathname.slice(new URL("..", import.meta.url).pathname.length);
    await t.step(name, async () => {
      const current = await Deno.readTextFile(file);
      assert.ok(
        current === make(current),
        `${name} differs from the settings tables: run \`deno task settings\``,
      );
    });
  }
});

const LOADERS = {
  producer: (env: Record<string, string>) => loadProducerConfig(env, 1),
  consumer: (env: Record<string, string>) => loadConsumerConfig(env),
  api: (env: Record<string, string>) => loadApiConfig(env),
};

/** Values on and just past each bound of a row, and one of the wrong kind. */
function probes(setting: Setting): unknown[] {
  switch (setting.type) {
    case "integer":
      return [
        setting.min,
        setting.min - 1,
        setting.min + 0.5,
        ...(setting.max === undefined ? [2 ** 40] : [setting.max, setting.max + 1]),
      ];
    case "number": {
      const below = setting.min === 0 ? -0.001 : setting.min - Math.abs(setting.min) / 10 - 0.001;
      return [
        setting.min,
        below,
        ...(setting.max === undefined ? [] : [setting.max, setting.max + 0.5]),
      ];
    }
    case "choice":
      return [...setting.values, setting.values[0].toUpperCase() + "x", "x"];
    case "string":
      return ["iot-a.b_c", "has space", "x".repeat(256)];
    default:
      return [];
  }
}

Deno.test("the chart's env schema accepts exactly what each service accepts", async (t) => {
  const schema = JSON.parse(
    await Deno.readTextFile(new URL("values.schema.json", import.meta.url)),
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const service of CHART_SERVICES) {
    const check = ajv.compile(schema.properties[service].properties.env);
    for (const [name, setting] of chartEnvSettings(service)) {
      await t.step(`${service}: ${name}`, () => {
        const values = probes(setting);
        assert.ok(values.length > 0, `no probe for ${setting.type}`);
        for (const value of values) {
          const chart = check({ [name]: value });
          let service_ = true;
          try {
            LOADERS[service]({ [name]: String(value) });
          } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            // Cross-checks with other settings (pool and concurrency) are _validate.tpl's.
            service_ = !error.problems.some((p) => p.startsWith(`${name} must`));
          }
          assert.equal(chart, service_, `${name}=${value}: chart ${chart}, service ${service_}`);
        }
      });
    }
  }
});

Deno.test("every setting a user sets in the chart is documented with its bounds in values.schema.json", async () => {
  const schema = JSON.parse(
    await Deno.readTextFile(new URL("values.schema.json", import.meta.url)),
  );
  for (const service of CHART_SERVICES) {
    const env = schema.properties[service].properties.env;
    assert.equal(env.additionalProperties, false);
    for (const [name, setting] of chartEnvSettings(service)) {
      const property = env.properties[name];
      assert.ok(property?.description, `${service}.env.${name} has a description`);
      if (setting.type === "integer" || setting.type === "number") {
        assert.equal(property.type, setting.type, name);
        assert.equal(property.minimum, setting.min, name);
      }
    }
  }
});
