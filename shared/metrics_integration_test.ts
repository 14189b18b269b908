/**
 * [integration] The services' metrics under the services' own permissions (--allow-net
 * --allow-env --allow-read), which a test can take only when it runs with more (deno task test):
 * with --allow-read but not --allow-all, Deno refuses /proc/self, where prom-client reads RSS.
 * @module
 */

import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { addProcessMetrics } from "./metrics.ts";

/** A registry of its own with the process metrics, as each service makes one. */
function processRegistry() {
  const registry = new Registry();
  return { registry, close: addProcessMetrics(registry) };
}

Deno.test({
  name: "[integration] addProcessMetrics() serves RSS and CPU with the services' permissions",
  permissions: { read: true, env: true, net: true },
  fn: async () => {
    const { registry, close } = processRegistry();
    try {
      const text = await registry.metrics();
      const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]);
      assert.ok(rss > 1_000_000, `RSS in bytes: got ${rss}`);
      assert.match(text, /^process_cpu_seconds_total \S+$/m);
    } finally {
      close();
    }
  },
});
