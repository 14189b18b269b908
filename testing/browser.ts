/**
 * THE shared browser fixture for tests that drive a real page: Debian's chromium
 * (`/usr/bin/chromium`) through playwright-core, headless, with a fresh profile per browser,
 * and every request that would leave loopback refused before it is sent, so a test can never
 * reach the internet (and a page that tries is seen: {@linkcode Browser.blocked}).
 *
 * ```ts ignore
 * import { openBrowser } from "../testing/browser.ts";
 * await using browser = await openBrowser();
 * const page = await browser.newPage();
 * await page.goto("http://127.0.0.1:8080/");
 * ```
 *
 * There is no skip: without chromium the fixture throws, naming the Debian package.
 * @module
 */

import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Where Debian's package puts chromium (scripts/prerequisites.sh installs it). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The flags of issue 13: no sandbox (containers), no GPU, no background traffic. */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
]);

/** Where tests keep screenshots: git-ignored (under .cache/), kept after the run. */
export const ARTIFACTS_DIR = new URL("../.cache/artifacts/", import.meta.url).pathname;

/** Whether a URL stays on this machine: loopback, or a scheme with no network at all. */
export function isLoopbackUrl(url: string): boolean {
  const parsed = new URL(url);
  if (["data:", "blob:", "about:"].includes(parsed.protocol)) return true;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Throws unless chromium is at {@linkcode CHROMIUM_PATH}, saying how to install it. Call it
 * first in a test that needs a browser, so a machine without one fails at once and clearly.
 */
export async function requireChromium(path = CHROMIUM_PATH): Promise<void> {
  try {
    const info = await Deno.stat(path);
    if (info.isFile && (info.mode ?? 0o111) & 0o111) return;
  } catch {
    // missing: the error below
  }
  throw new Error(
    `the browser tests need chromium at ${path}: apt-get install chromium ` +
      "(bash scripts/prerequisites.sh lists what is missing; CI=true bash .ci/run installs it)",
  );
}

/** A running browser, closed with `await using` or {@linkcode Browser.close}. */
export interface Browser extends AsyncDisposable {
  /** The persistent context (its profile is a fresh temporary folder). */
  context: BrowserContext;
  /** Requests refused because they would have left loopback, in order. */
  blocked: string[];
  /** Console errors and uncaught page errors, in order. */
  pageErrors: string[];
  /** A new tab, with the context's request guard. */
  newPage(): Promise<Page>;
  /** Saves a full-page screenshot as `<ARTIFACTS_DIR>/<name>.png`; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Starts chromium with a fresh profile. Throws when chromium is missing, saying how to install
 * it: a test that needs a browser fails rather than passes without one.
 */
export async function openBrowser(): Promise<Browser> {
  await requireChromium();
  const profile = await Deno.makeTempDir({ prefix: "iot-chromium-" });
  let context: BrowserContext;
  try {
    // Playwright refuses --user-data-dir in args: the persistent context's folder is the profile.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 1280, height: 860 },
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw error;
  }
  const blocked: string[] = [];
  const pageErrors: string[] = [];
  await context.route("**/*", async (route) => {
    const url = route.request().url();
    if (isLoopbackUrl(url)) return await route.continue();
    blocked.push(url);
    await route.abort("blockedbyclient");
  });
  const watch = (page: Page) => {
    page.on("pageerror", (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(`console: ${message.text()}`);
    });
  };
  context.pages().forEach(watch);
  context.on("page", watch);
  const close = async () => {
    await context.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  return {
    context,
    blocked,
    pageErrors,
    newPage: () => context.newPage(),
    async screenshot(page, name) {
      await Deno.mkdir(ARTIFACTS_DIR, { recursive: true });
      const path = `${ARTIFACTS_DIR}${name}.png`;
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
