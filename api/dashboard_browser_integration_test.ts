/**
 * [integration] The dashboard in a real browser (Debian's chromium, testing/browser.ts) against
 * the real stack: Kafka and PostgreSQL (testing/services.ts), the real consumer, the real
 * producer and the real api, each a child process started as `deno task` starts it.
 *
 * The page must show every device the producer created, show an alert opened by a reading sent
 * through Kafka within 2 s of the send, and acknowledge it (the row in tb_alerta gets
 * acknowledged_at/by/note). No request leaves loopback: the fixture refuses them and the test
 * asserts there was none. Screenshots: .cache/artifacts/dashboard-*.png.
 */

import assert from "node:assert/strict";
import { logLevel } from "kafkajs";
import postgres from "postgres";
import { openBrowser, requireChromium } from "../testing/browser.ts";
import { eventually, ServiceProcess, startConsumer } from "../testing/processes.ts";
import {
  createTopic,
  dropDatabase,
  freshDatabase,
  kafkaClient,
  startServices,
  uniqueName,
} from "../testing/services.ts";

/** The bound: from the send of a hot reading to the alert on the page. */
const ALERT_VISIBLE_WITHIN_MS = 2000;

const DEVICES = 12;
const TOKEN = "dashboard-test-token-0123456789";

Deno.test({
  name: "[integration] the dashboard shows the fleet, a new alert within 2 s, and acknowledges it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await requireChromium(); // no browser: fail now, naming the package, never skip
    const { kafkaBrokers } = await startServices();
    const name = uniqueName("dash_it");
    await createTopic(name, 3);
    const databaseUrl = await freshDatabase(name);
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const env = { KAFKA_BROKERS: kafkaBrokers, KAFKA_TOPIC: name, DATABASE_URL: databaseUrl };
    const processes: ServiceProcess[] = [];
    const producerClient = (await kafkaClient("iot-test-dashboard", logLevel.NOTHING)).producer();
    try {
      processes.push(await startConsumer({ ...env, KAFKA_GROUP_ID: name }));
      const producer = new ServiceProcess("producer/main.ts", {
        ...env,
        PRODUCER_DEVICES: String(DEVICES),
        PRODUCER_RATE: "20",
        PRODUCER_SEED: "13",
        PRODUCER_INVALID_RATIO: "0.05",
      });
      processes.push(producer);
      await eventually(async () => {
        const [{ n }] = await sql`SELECT count(*)::int AS n FROM tb_dispositivo`;
        return n === DEVICES;
      }, `the producer's ${DEVICES} devices in tb_dispositivo`);
      const api = new ServiceProcess("api/main.ts", {
        DATABASE_URL: databaseUrl,
        API_ACK_TOKEN: TOKEN,
      });
      processes.push(api);
      await api.waitForLog((l) => l.msg === "api ready");
      const origin = `http://127.0.0.1:${await api.port()}`;

      await using browser = await openBrowser();
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      await page.locator("body[data-loaded=true]").waitFor();

      // Every device the producer created, and only those, is on the map.
      const stored = (await sql<{ id: string }[]>`
        SELECT id_dispositivo AS id FROM tb_dispositivo ORDER BY 1`).map((r) => r.id);
      await eventually(
        async () => (await page.locator("#map circle[data-device]").count()) === DEVICES,
        "a dot per device",
        10_000,
      );
      const shown = await page.locator("#map circle[data-device]").evaluateAll((dots) =>
        dots.map((d) => d.getAttribute("data-device")).sort()
      );
      assert.deepEqual(shown, stored);
      assert.equal(await page.locator("#map path.outline").count(), 1, "the outline is drawn");
      assert.equal(await page.locator("#map").getAttribute("data-projection"), "equirectangular");
      await page.locator("#stream-state", { hasText: "live" }).waitFor();
      await page.locator("#rows-per-second").filter({ hasNotText: "–" }).waitFor();
      console.log(
        `map: ${shown.length} devices; ${await browser.screenshot(page, "dashboard-fleet")}`,
      );

      // A click opens the device: its status and charts from the history and the stream.
      const chosen = stored[0];
      await page.locator(`#map circle[data-device="${chosen}"]`).click();
      await page.locator("#device-id", { hasText: chosen }).waitFor();
      await eventually(
        async () =>
          Number(await page.locator("#chart-temperature").getAttribute("data-points")) > 0,
        "points on the temperature chart",
        10_000,
      );
      const charted = async (chart: string) =>
        Number(await page.locator(`#chart-${chart}`).getAttribute("data-points"));
      // A chart's line runs left to right: history and stream merged in time order.
      const inTimeOrder = async (chart: string) => {
        const d = await page.locator(`#chart-${chart} path.line`).getAttribute("d") ?? "";
        const xs = [...d.matchAll(/[ML](-?[\d.]+),/g)].map((m) => Number(m[1]));
        return xs.length > 1 && xs.every((x, i) => i === 0 || x >= xs[i - 1]);
      };
      const fromHistory: Record<string, number> = {};
      for (const chart of ["temperature", "humidity", "battery"]) {
        fromHistory[chart] = await charted(chart);
        assert.ok(fromHistory[chart] > 0, `${chart} chart has points from the history`);
      }
      // Live: the stream's readings of the device extend every chart.
      await eventually(
        async () =>
          (await Promise.all(
            Object.entries(fromHistory).map(async ([c, n]) => await charted(c) >= n + 3),
          ))
            .every(Boolean),
        "three more points on every chart from the stream",
        15_000,
      );
      for (const chart of ["temperature", "humidity", "battery"]) {
        assert.ok(await inTimeOrder(chart), `${chart} chart in time order`);
      }

      // A hot reading through Kafka, for a device of its own (the producer's readings of its own
      // devices could clear an alert the test opened on one of them).
      const hot = "dashboard-hot-1";
      await producerClient.connect();
      const sent = performance.now();
      await producerClient.send({
        topic: name,
        messages: [{
          key: hot,
          value: JSON.stringify({
            ID: crypto.randomUUID(),
            ID_DISPOSITIVO: hot,
            TIMESTAMP: new Date().toISOString(),
            TEMPERATURA: 44.5,
            UMIDADE: 30,
            LATITUDE: -15.8,
            LONGITUDE: -47.9,
            STATUS: "WARN",
            BATERIA: 90,
          }),
        }],
      });
      const row = page.locator(`#alerts tr[data-device="${hot}"][data-type="temperature_high"]`);
      await row.waitFor({ timeout: 30_000 });
      const visibleMs = performance.now() - sent;
      console.log(
        `alert visible ${
          visibleMs.toFixed(0)
        } ms after the send (bound ${ALERT_VISIBLE_WITHIN_MS} ms)`,
      );
      await page.locator(`#map circle[data-device="${hot}"][data-status="alerting"]`).waitFor();
      console.log(`alert: ${await browser.screenshot(page, "dashboard-alert")}`);
      assert.ok(
        visibleMs <= ALERT_VISIBLE_WITHIN_MS,
        `the alert appeared ${visibleMs.toFixed(0)} ms after the send`,
      );

      // Acknowledge: note, token and name typed once; the token stays in sessionStorage.
      await row.getByRole("button", { name: "Acknowledge" }).click();
      await row.getByLabel("Note").fill("checked the cold room door");
      await row.getByLabel("Token").fill(TOKEN);
      await row.getByLabel("Your name").fill("operator 7");
      await row.getByRole("button", { name: "Send" }).click();
      await row.getByText("acknowledged by operator 7").waitFor();
      const alertId = await row.getAttribute("data-alert-id");
      const [alert] = await sql`SELECT acknowledged_at IS NOT NULL AS acknowledged,
          acknowledged_by, acknowledge_note, cleared_at IS NULL AS open
        FROM tb_alerta WHERE id = ${alertId}::bigint`;
      assert.deepEqual({ ...alert }, {
        acknowledged: true,
        acknowledged_by: "operator 7",
        acknowledge_note: "checked the cold room door",
        open: true,
      });
      assert.equal(
        await page.evaluate("sessionStorage.getItem('iot.ackToken')"),
        TOKEN,
        "the token is kept for the tab",
      );
      await page.locator("#token-state", { hasText: "kept for this tab" }).waitFor();
      console.log(`acknowledged: ${await browser.screenshot(page, "dashboard-acknowledged")}`);
      // The README's picture: a device of the fleet with its charts, and the acknowledged alert.
      await page.locator(`#alerts tr[data-device="${hot}"] a`).click();
      await page.locator("#device-id", { hasText: hot }).waitFor();
      await page.locator(`#map circle[data-device="${chosen}"]`).click();
      await page.locator("#device-id", { hasText: chosen }).waitFor();
      await eventually(async () => await charted("temperature") >= 8, "8 points charted", 15_000);
      console.log(`overview: ${await browser.screenshot(page, "dashboard")}`);

      assert.deepEqual(browser.blocked, [], "the page asked for nothing off loopback");
      assert.deepEqual(browser.pageErrors, [], "no error in the page");

      // With the tiles setting on and no internet (the fixture refuses the tiles), the map
      // switches to Web Mercator, drops the tiles that failed, and still draws everything.
      // One click, not check(): the change reloads the page, and check() retries on the reloaded
      // page, where the box stays unticked until app.js runs; if app.js ticks it between check()'s
      // read and its click, the click unticks it ("did not change its state"). The reloaded page
      // is the one drawn in Web Mercator.
      await page.getByLabel(/OpenStreetMap tiles/).click();
      await page.locator("#map[data-projection=web-mercator]").waitFor();
      await page.locator("#tiles-setting:checked").waitFor();
      await page.locator("body[data-loaded=true]").waitFor();
      await page.locator("#map[data-tiles-failed]").waitFor();
      await eventually(
        async () => (await page.locator("#map image").count()) === 0,
        "every failed tile removed",
        10_000,
      );
      assert.equal(await page.locator("#map path.outline").count(), 1);
      assert.equal(await page.locator("#map circle[data-device]").count(), DEVICES + 1);
      // The reload selected the device again from the address (#device=...).
      await page.locator("#device-id", { hasText: chosen }).waitFor();
      await eventually(
        () => inTimeOrder("temperature"),
        "the reloaded chart in time order",
        10_000,
      );
      // (assert.deepEqual above narrowed the list's type to never[])
      const refused = browser.blocked as string[];
      assert.ok(refused.length > 0, "the page asked for tiles");
      assert.ok(
        refused.every((u) => u.startsWith("https://tile.openstreetmap.org/5/")),
        refused.join(", "),
      );
      console.log(
        `tiles on, offline: ${refused.length} tiles refused; ${await browser.screenshot(
          page,
          "dashboard-tiles-offline",
        )}`,
      );
    } finally {
      await producerClient.disconnect().catch(() => {});
      for (const child of processes.reverse()) await child.dispose();
      await sql.end();
      await dropDatabase(name);
    }
  },
});
