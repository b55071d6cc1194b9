import { defineConfig, devices } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A fresh data directory per run, so every run starts from an empty store. The workers
// load this file again and inherit the variable, so they see the same directory, which
// the tests look into to check what the embedded store holds.
const dataDir = (process.env.S3DROP_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), "s3drop-e2e-")));
const port = Number(process.env.S3DROP_E2E_PORT ?? 3100);
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
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
  },
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
  ],
  // Playwright starts the built servers itself and waits until they answer: an open
  // drop, and a private one (its password in PRIVATE_PASSWORD above).
  webServer: [
    server(port, dataDir, []),
    // The private drop also takes files of at most 1 MiB, to show refusals.
    server(port + 1, `${dataDir}-private`, [
      "--access-password",
      PRIVATE_PASSWORD,
      "--max-file-size",
      "1MiB",
    ]),
  ],
});

function server(port: number, dir: string, extra: string[]) {
  return {
    command: [`./target/debug/s3drop --bind 127.0.0.1:${port} --data-dir ${dir}`, ...extra].join(" "),
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
