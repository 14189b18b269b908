/**
 * Takes the README's picture of the dashboard: opens a running api's page in the test browser
 * (testing/browser.ts: Debian's chromium, nothing off loopback), selects a device, waits for its
 * charts, and writes a PNG.
 *
 *   deno run -A scripts/dashboard_screenshot.ts http://127.0.0.1:8083/ docs/dashboard.png [device]
 *
 * Without a device it picks the first device with an open alert, else the first on the map.
 *
 * @module
 */

import { openBrowser } from "../testing/browser.ts";

async function main(url: string, out: string, device?: string): Promise<void> {
  await using browser = await openBrowser();
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1200, height: 800 });
  await page.goto(url);
  await page.locator("body[data-loaded=true]").waitFor();
  const chosen = device ??
    (await page.locator("#alerts tr[data-device]").first().getAttribute("data-device", {
      timeout: 1000,
    }).catch(() => null)) ??
    await page.locator("#map circle[data-device]").first().getAttribute("data-device");
  if (chosen === null) throw new Error("no device on the map");
  await page.locator(`#map circle[data-device="${chosen}"]`).click();
  await page.locator("#chart-temperature:not([data-points='0'])").waitFor();
  await page.waitForTimeout(3000); // a few live readings on the charts
  await page.screenshot({ path: out });
  if (browser.blocked.length > 0) throw new Error(`requests off loopback: ${browser.blocked}`);
  console.log(`${out}: device ${chosen}`);
}

if (import.meta.main) {
  const [url, out, device] = Deno.args;
  if (url === undefined || out === undefined) {
    console.error("usage: deno run -A scripts/dashboard_screenshot.ts <url> <out.png> [device]");
    Deno.exit(2);
  }
  await main(url, out, device);
}
