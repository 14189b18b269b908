import assert from "node:assert/strict";
import { FAULT_KINDS } from "./faults.ts";
import { parseCli } from "./options.ts";

Deno.test("parseCli() gives the short run its defaults and a replay command with the seed", () => {
  const cli = parseCli(["--short"], () => 0.5);
  assert.equal(cli.action, "run");
  assert.deepEqual(cli.refused, []);
  const { command, ...o } = cli.options;
  assert.deepEqual(o, {
    mode: "short",
    seed: 2 ** 30,
    durationS: 0,
    rate: 200,
    kinds: [...FAULT_KINDS],
    plant: null,
    kafkaClient: "kafkajs",
    keepServices: false,
    keepData: false,
    noPublish: false,
    reportJson: undefined,
  });
  assert.equal(command, `deno run -A chaos/run.ts --short --seed ${2 ** 30}`);
});

Deno.test("parseCli() names in the replay command only the settings given", () => {
  const cli = parseCli(["--seed", "7", "--faults", "", "--plant", "no-fence", "--keep-data"]);
  assert.equal(cli.options.mode, "long");
  assert.equal(cli.options.durationS, 300);
  assert.deepEqual(cli.options.kinds, []);
  assert.equal(cli.options.keepData, true);
  assert.equal(
    cli.options.command,
    "deno run -A chaos/run.ts --seed 7 --faults  --plant no-fence",
  );
  const client = parseCli(["--short", "--seed", "3", "--kafka-client", "platformatic"]).options;
  assert.equal(client.kafkaClient, "platformatic");
  assert.equal(
    client.command,
    "deno run -A chaos/run.ts --short --seed 3 --kafka-client platformatic",
  );
});

Deno.test("parseCli() refuses a bad value, in the words the harness prints", () => {
  assert.deepEqual(parseCli(["--seed=-1", "--rate", "0"]).refused, [
    "--seed must be a non-negative integer: got -1",
    "--rate must be positive: got 0",
  ]);
  assert.deepEqual(parseCli(["--faults", "consumer-kill,meteor"]).refused, [
    `--faults must be among ${FAULT_KINDS.join(",")}`,
  ]);
  assert.match(parseCli(["--plant", "nothing"]).refused[0], /^--plant must be one of /);
  assert.match(
    parseCli(["--kafka-client", "librdkafka"]).refused[0],
    /^--kafka-client must be one of kafkajs, platformatic/,
  );
  assert.throws(() => parseCli(["--sede", "1"]));
});

Deno.test("parseCli() reads down and status", () => {
  assert.equal(parseCli(["down"]).action, "down");
  assert.equal(parseCli(["status"]).action, "status");
});

Deno.test("parseCli() leaves the root-only kinds out of the defaults without root, and refuses them", () => {
  const cli = parseCli(["--short"], () => 0.5, false);
  assert.deepEqual(cli.options.kinds, FAULT_KINDS.filter((k) => k !== "postgres-disk-full"));
  assert.deepEqual(cli.refused, []);
  assert.deepEqual(parseCli(["--faults", "postgres-disk-full"], () => 0.5, false).refused, [
    "--faults: postgres-disk-full needs root (a mount namespace for its volume)",
  ]);
  assert.deepEqual(parseCli(["--faults", "postgres-disk-full"], () => 0.5, true).refused, []);
});
