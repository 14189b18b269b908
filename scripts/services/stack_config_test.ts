import assert from "node:assert/strict";
import { ConfigError } from "../../shared/env.ts";
import {
  DEFAULT_KAFKA_HEAP_OPTS,
  DEFAULT_PORTS,
  localBrokers,
  localDatabaseUrl,
  localSaslBrokers,
  portVariable,
  stackConfigFromEnv,
  stackPaths,
} from "./stack_config.ts";

Deno.test("stackConfigFromEnv() gives the developer stack when nothing is set", () => {
  const stack = stackConfigFromEnv({}, { dir: "/repo/.cache/services" });
  assert.deepEqual(stack, {
    dir: "/repo/.cache/services",
    ports: { ...DEFAULT_PORTS },
    kafkaHeapOpts: [...DEFAULT_KAFKA_HEAP_OPTS],
    external: { kafkaBrokers: undefined, databaseUrl: undefined },
    prefix: "",
  });
});

Deno.test("stackConfigFromEnv() reads folder, ports, heap and outside servers", () => {
  const stack = stackConfigFromEnv({
    SERVICES_DIR: "/tmp/s/",
    KAFKA_PORT: "19092",
    KAFKA_CONTROLLER_PORT: "19093",
    KAFKA_SASL_PORT: "19094",
    POSTGRES_PORT: "15432",
    KAFKA_HEAP_OPTS: "-Xms64m  -Xmx128m",
    KAFKA_BROKERS: "k:9092",
    DATABASE_URL: "postgres://u:p@h/d",
  }, { dir: "/unused" });
  assert.equal(stack.dir, "/tmp/s");
  assert.deepEqual(stack.ports, { kafka: 19092, controller: 19093, sasl: 19094, postgres: 15432 });
  assert.deepEqual(stack.kafkaHeapOpts, ["-Xms64m", "-Xmx128m"]);
  assert.deepEqual(stack.external, { kafkaBrokers: "k:9092", databaseUrl: "postgres://u:p@h/d" });
});

Deno.test("stackConfigFromEnv() with a prefix reads only the prefixed variables", async (t) => {
  const env = {
    KAFKA_PORT: "1",
    CHAOS_KAFKA_PORT: "29192",
    CHAOS_SERVICES_DIR: "/c",
    KAFKA_BROKERS: "outside:9092",
  };
  const defaults = { kafka: 29092, controller: 29093, sasl: 29094, postgres: 25432 };
  await t.step("prefixed ports and folder win, the rest keep the harness's defaults", () => {
    const stack = stackConfigFromEnv(env, { prefix: "CHAOS_", dir: "/d", ports: defaults });
    assert.deepEqual(stack.ports, { ...defaults, kafka: 29192 });
    assert.equal(stack.dir, "/c");
    assert.equal(portVariable(stack, "postgres"), "CHAOS_POSTGRES_PORT");
  });
  await t.step("external: false ignores KAFKA_BROKERS and DATABASE_URL", () => {
    const stack = stackConfigFromEnv(env, { prefix: "CHAOS_", dir: "/d", external: false });
    assert.deepEqual(stack.external, {});
  });
});

/** The problems the ConfigError thrown by `fn` lists. */
function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error.problems;
  }
  assert.fail("no error thrown");
}

Deno.test("stackConfigFromEnv() names every bad variable and its value", () => {
  const env = {
    CHAOS_KAFKA_PORT: "kafka",
    CHAOS_POSTGRES_PORT: "70000",
    CHAOS_SERVICES_DIR: "relative/dir",
  };
  assert.deepEqual(problems(() => stackConfigFromEnv(env, { prefix: "CHAOS_", dir: "/d" })), [
    `CHAOS_KAFKA_PORT must be an integer from 1 to 65535: got "kafka"`,
    `CHAOS_POSTGRES_PORT must be an integer from 1 to 65535: got "70000"`,
    `CHAOS_SERVICES_DIR must be an absolute path: got "relative/dir"`,
  ]);
});

Deno.test("stackConfigFromEnv() refuses two listeners on one port", () => {
  assert.deepEqual(problems(() => stackConfigFromEnv({ KAFKA_SASL_PORT: "9092" }, { dir: "/d" })), [
    "KAFKA_SASL_PORT and KAFKA_PORT are both 9092",
  ]);
});

Deno.test("addresses and paths follow the ports and the folder", () => {
  const ports = { kafka: 1, controller: 2, sasl: 3, postgres: 4 };
  assert.equal(localBrokers(ports), "127.0.0.1:1");
  assert.equal(localSaslBrokers(ports), "127.0.0.1:3");
  assert.equal(localDatabaseUrl(ports), "postgres://iot:iot@127.0.0.1:4/iot");
  const paths = stackPaths("/s");
  assert.equal(paths.kafkaPidFile, "/s/kafka/kafka.pid");
  assert.equal(paths.postgresData, "/s/postgres/data");
  assert.equal(paths.tlsDir, "/s/tls");
  assert.equal(paths.lockFile, "/s/.lock");
  assert.equal(paths.envFile, "/s/env");
});

Deno.test("every stack's default ports (developer, fault-injection, benchmark) lie below Linux's ephemeral range and apart", async () => {
  const { CHAOS_PORTS } = await import("../../chaos/stack.ts");
  const { BENCH_PORTS } = await import("../../bench/stack.ts");
  const all = [DEFAULT_PORTS, CHAOS_PORTS, BENCH_PORTS].flatMap((ports) => Object.values(ports));
  // 32768 is where net.ipv4.ip_local_port_range starts by default: a port above it may be held by
  // an outgoing connection when a server wants to bind it.
  for (const port of all) assert.ok(port > 1024 && port < 32768, `port ${port}`);
  assert.equal(new Set(all).size, all.length, "no port shared by two stacks");
});
