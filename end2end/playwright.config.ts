import { defineConfig, devices } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A fresh folder per run for the servers' data directories, so every run starts from
// an empty store; `global-teardown.ts` removes it. The workers load this file again and
// inherit the variable, so they see the same folder, which the tests look into for the
// embedded store's credentials (`open/secrets.json`).
const dataRoot = (process.env.S3DROP_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "s3drop-e2e-")));
const port = Number(process.env.S3DROP_E2E_PORT ?? 3100);
// With S3DROP_BUCKET and the AWS_* variables set (`scripts/test.sh` sets them from
// `scripts/stores.sh`), the servers use that external store instead, each run under a
// key prefix of its own; the bucket's CORS must allow both servers' origins
// (`s3drop --setup-store`).
process.env.S3DROP_KEY_PREFIX ??= `e2e-${Date.now()}/`;
/** Whether the run uses an external store (`scripts/stores.sh` names it in AWS_* and S3DROP_BUCKET). */
export const external = process.env.S3DROP_BUCKET !== undefined;
/** The port of a drop whose presigned URLs live two seconds (`--url-ttl 2`). */
export const SHORT_URLS_PORT = port + 3;
/** The secret the open drop signs tokens with, on an external store. */
export const SHARED_SECRET = "end-to-end-secret-shared-by-two-instances";
const shared = ["--secret", SHARED_SECRET];
const baseURL = `http://localhost:${port}`;
/** The private drop's password (the tests read it from here too). */
export const PRIVATE_PASSWORD = "end-to-end-secret";

export default defineConfig({
  testDir: "./tests",
  timeout: 120_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // A stray test.only would shrink the suite to one test, by hand as much as on CI.
  forbidOnly: true,
  // The list's summary lines, and a guard that fails the run when a spec that must run
  // here was skipped.
  reporter: [["list"], ["./skip-guard.ts"]],
  globalTeardown: "./global-teardown.ts",
  // A passing test's generated files and trace go; a failing one's stay for a look,
  // under scripts/test.sh's scratch folder when it runs the suite.
  preserveOutput: "failures-only",
  outputDir: process.env.S3DROP_E2E_RESULTS ?? "test-results",
  use: {
    baseURL,
    trace: "retain-on-failure",
  },
  // Every test runs in Chromium; those tagged @firefox run in Firefox too (Debian's
  // firefox-esr, driven over WebDriver BiDi: Playwright's own Firefox builds cannot be
  // downloaded here). Tests that need Chromium's DevTools protocol, its File System
  // Access API, a folder picked, or a script run in the page (the page's CSP refuses the
  // `eval` the BiDi client needs for that) are Chromium's only.
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          // Debian's Chromium; Playwright never downloads a browser here.
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
          ],
        },
      },
    },
    {
      name: "firefox",
      grep: /@firefox/,
      use: {
        // Firefox 140 takes no locale or user agent override over BiDi: its own are kept.
        locale: "",
        viewport: { width: 1280, height: 720 },
        // Playwright's WebDriver BiDi client, which drives a stock Firefox.
        browserName: "_bidiFirefox" as "firefox",
        channel: "moz-firefox",
        launchOptions: { executablePath: process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr" },
      },
    },
  ],
  // Playwright starts the built servers itself and waits until they answer: an open
  // drop, and a private one (its password in PRIVATE_PASSWORD above).
  webServer: [
    // The open drop lists the store's files and lets people delete them.
    server(port, `${dataRoot}/open`, ["--list-files", "--allow-delete", ...(external ? shared : [])]),
    // The private drop also takes files of at most 1 MiB, three at a time, to show
    // refusals.
    server(port + 1, `${dataRoot}/private`, [
      "--access-password",
      PRIVATE_PASSWORD,
      "--max-file-size",
      "1MiB",
      "--max-files",
      "3",
    ]),
    // A drop whose presigned URLs expire two seconds after signing, so that URLs really
    // expire in the store while parts wait their turn.
    server(SHORT_URLS_PORT, `${dataRoot}/short-urls`, ["--url-ttl", "2"]),
  ],
});

function server(port: number, dir: string, extra: string[]) {
  const publicUrl = extra.includes("--public-url") ? [] : [`--public-url http://localhost:${port}`];
  return {
    command: [`./target/debug/s3drop --bind 127.0.0.1:${port}`, ...publicUrl, `--data-dir ${dir}`, ...extra].join(
      " ",
    ),
    cwd: "..",
    url: `http://localhost:${port}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
    env: {
      LEPTOS_OUTPUT_NAME: "s3drop",
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_SITE_PKG_DIR: "pkg",
      RUST_LOG: "warn",
    },
  };
}
