import { test, expect } from "@playwright/test";
import {
  MIB,
  dropGeneratedFiles,
  fileRow,
  openPage,
  partNumber,
  scratchDir,
  sleep,
  storedDigest,
} from "./helpers";
import { freePort, kill, startServer } from "./own-server";

// The s3drop server (and with it the embedded store) killed under the page and started
// again on the same data directory: real refused connections, first to part PUTs, then
// to a server call. The page must retry both and finish the upload intact.
//
// This test starts a server of its own, on a port free at run time, always with the
// embedded store: killing the server takes the store the parts go to down with it.

test("the server killed and started again under the page: parts and server calls are retried, the upload lands intact", async ({
  page,
}) => {
  const port = await freePort();
  const dir = scratchDir("restarted-server");
  let server = await startServer(port, dir);
  let restarting: Promise<void> | undefined;
  try {
    await openPage(page, `http://localhost:${port}/`);
    // Parts take a second each on their way, so some are in flight at the kill.
    await page.route(
      (url) => partNumber(url) !== undefined,
      async (route) => {
        await sleep(1_000);
        await route.continue().catch(() => {});
      },
    );
    const failed: string[] = [];
    page.on("requestfailed", (r) => failed.push(`${r.method()} ${new URL(r.url()).pathname}`));
    const completions: number[] = [];
    page.on("response", (r) => {
      if (r.url().endsWith("/api/uploads/complete")) completions.push(r.status());
    });
    // The first completion call reaches a server killed just before it, started again
    // two seconds later.
    let down = false;
    await page.route("**/api/uploads/complete", async (route) => {
      if (!down) {
        down = true;
        await kill(server);
        restarting = sleep(2_000).then(async () => {
          server = await startServer(port, dir);
        });
      }
      await route.continue().catch(() => {});
    });

    const [digest] = await dropGeneratedFiles(page, [{ name: "restarted.bin", size: 40 * MIB, type: "" }]);
    const row = fileRow(page, "restarted.bin");
    await page.waitForResponse((r) => partNumber(r.url()) !== undefined && r.status() === 200);
    // First fault: the server and its store go while parts are on their way.
    await kill(server);
    await expect.poll(() => failed.filter((f) => f.startsWith("PUT ")).length).toBeGreaterThan(0);
    await expect(row).toHaveAttribute("data-state", "uploading");
    server = await startServer(port, dir);

    expect(await storedDigest(page, "restarted.bin", `http://localhost:${port}`)).toBe(digest);
    expect(down, "the completion met a dead server").toBe(true);
    expect(failed, "the refused completion").toContain("POST /api/uploads/complete");
    expect(completions, "the completion was asked again and answered").toEqual([200]);
  } finally {
    await restarting?.catch(() => {});
    await kill(server);
  }
});
