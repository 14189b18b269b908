/**
 * The browser fixture itself: chromium starts headless with a fresh profile, renders a page
 * served on loopback, and refuses every request that would leave loopback (the page sees the
 * failure, the fixture lists the URL).
 */

import assert from "node:assert/strict";
import { isLoopbackUrl, openBrowser, requireChromium } from "./browser.ts";

Deno.test("isLoopbackUrl() accepts only loopback hosts and network-free schemes", () => {
  for (
    const url of ["http://127.0.0.1:8080/", "http://localhost/x", "http://[::1]:3/", "data:,x"]
  ) {
    assert.ok(isLoopbackUrl(url), url);
  }
  for (
    const url of [
      "https://tile.openstreetmap.org/5/11/17.png",
      "http://10.0.0.1/",
      "http://128.0.0.1/",
    ]
  ) {
    assert.ok(!isLoopbackUrl(url), url);
  }
});

Deno.test("requireChromium() fails naming the package when chromium is missing", async () => {
  await assert.rejects(
    requireChromium("/nonexistent/chromium"),
    new Error(
      "the browser tests need chromium at /nonexistent/chromium: apt-get install chromium " +
        "(bash scripts/prerequisites.sh lists what is missing; CI=true bash .ci/run installs it)",
    ),
  );
  await requireChromium(); // and this machine has it
});

Deno.test({
  name: "[integration] openBrowser() renders a loopback page and blocks a request off loopback",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
      new Response(
        `<!doctype html><title>t</title><p id="x">here</p><script>
          fetch("https://example.com/probe").then(() => document.title = "reached",
            () => document.title = "refused");
        </script>`,
        { headers: { "content-type": "text/html" } },
      ));
    try {
      await using browser = await openBrowser();
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      assert.equal(await page.locator("#x").textContent(), "here");
      await page.waitForFunction('document.title !== "t"');
      assert.equal(await page.title(), "refused");
      assert.deepEqual(browser.blocked, ["https://example.com/probe"]);
    } finally {
      await server.shutdown();
    }
  },
});
