import { expect } from "@playwright/test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { sleep } from "./helpers";

// A server a test starts and stops itself (killed and started again, or put behind a
// relay), apart from the ones Playwright's config starts for the whole run.

/** A port nothing listens on now, chosen by the system. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The environment of a server: the site's location, and the run's store settings when
 * `store` is "the run's" (an external store where the run has one), or none at all for
 * "embedded".
 */
function environment(store: "embedded" | "the run's"): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LEPTOS_OUTPUT_NAME: "s3drop",
    LEPTOS_SITE_ROOT: "target/site",
    LEPTOS_SITE_PKG_DIR: "pkg",
    RUST_LOG: "warn",
  };
  for (const name of Object.keys(env)) {
    if (name.startsWith("S3DROP_E2E_")) delete env[name];
    if (store === "embedded" && (name.startsWith("AWS_") || name.startsWith("S3DROP_"))) delete env[name];
  }
  return env;
}

/**
 * Starts the built server on `port` with data in `dir` and the `args` given, and waits
 * until it answers; its stderr goes to the test's.
 */
export async function startServer(
  port: number,
  dir: string,
  { args = [], store = "embedded" }: { args?: string[]; store?: "embedded" | "the run's" } = {},
): Promise<ChildProcess> {
  const all = ["--bind", `127.0.0.1:${port}`, "--data-dir", dir, ...args];
  if (!args.includes("--public-url")) all.push("--public-url", `http://localhost:${port}`);
  const server = spawn("./target/debug/s3drop", all, {
    cwd: "..",
    env: environment(store),
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<never>((_, reject) =>
    server.once("exit", (code) => reject(new Error(`the server exited (${code})`))),
  );
  const healthy = (async () => {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(100);
    }
  })();
  await Promise.race([healthy, exited]);
  exited.catch(() => {});
  return server;
}

/**
 * Lets the page at `origin` upload to the run's external store, as an operator would
 * (`s3drop --setup-store`, which adds the origin to s3drop's CORS rule).
 */
export function allowOrigin(origin: string) {
  const setup = spawnSync("./target/debug/s3drop", ["--setup-store", "--public-url", origin], {
    cwd: "..",
    env: environment("the run's"),
    encoding: "utf8",
  });
  expect(setup.status, `${setup.stdout}\n${setup.stderr}`).toBe(0);
}

/** Kills `server` at once (SIGKILL: nothing is flushed or finished) and waits for it to go. */
export async function kill(server: ChildProcess) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise((resolve) => server.once("exit", resolve));
  expect(server.kill("SIGKILL")).toBe(true);
  await gone;
}
