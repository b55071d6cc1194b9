import { test, expect, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  MIB,
  dropGeneratedFiles,
  fileRow,
  multipartUploadsInStore,
  openPage,
  partNumber,
  pickGeneratedFiles,
  savedParts,
  scratchDir,
  sha256,
  sleep,
  storedDigest,
} from "./helpers";
import { outcomes, part, test as relayed } from "./relayed-drop";

/** Slows every part PUT down by `ms`, so there is time to act mid-upload. */
async function slowParts(page: Page, ms: number) {
  await page.route(
    (url) => partNumber(url) !== undefined,
    async (route) => {
      await sleep(ms);
      // The page may have stopped the request meanwhile (pause, cancel, offline).
      await route.continue().catch(() => {});
    },
  );
}

/** Counts the part PUTs the page starts, by part number. */
function countParts(page: Page): Map<number, number> {
  const counts = new Map<number, number>();
  page.on("request", (request) => {
    const n = partNumber(request.url());
    if (request.method() === "PUT" && n !== undefined) {
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
  });
  return counts;
}

/** Picks one small file and waits until it is stored: the page's own work goes on. */
async function uploadAnother(page: Page, name: string) {
  await pickGeneratedFiles(page, [{ name, size: MIB }]);
  await expect(fileRow(page, name)).toHaveAttribute("data-state", "done");
}

const partStored = (page: Page) =>
  page.waitForResponse((r) => partNumber(r.url()) !== undefined && r.status() === 200);

test("pause stops sending, resume sends only what the store lacks and finishes intact", { tag: "@firefox" }, async ({ page }) => {
  await openPage(page);
  // Part 1 goes on; the others wait on their way until Pause is clicked, so the file is
  // still running then, however fast the rest would go.
  let pauseClicked!: () => void;
  const clicked = new Promise<void>((resolve) => (pauseClicked = resolve));
  await page.route(
    (url) => (partNumber(url) ?? 1) > 1,
    async (route) => {
      await clicked;
      // The page may have stopped the request meanwhile.
      await route.continue().catch(() => {});
    },
  );
  const storedBefore = new Set<number>();
  let paused = false;
  page.on("response", (r) => {
    const n = partNumber(r.url());
    if (!paused && n !== undefined && r.status() === 200) storedBefore.add(n);
  });
  // Waited for from before the pick: part 1 may be stored before the pick returns.
  const firstStored = partStored(page);
  const [digest] = await pickGeneratedFiles(page, [{ name: "paused.bin", size: 40 * MIB }]);
  const row = fileRow(page, "paused.bin");
  await firstStored;
  // While it runs, the overall bar shows how much of the total is sent (how much
  // depends on the browser: Chromium counts the held parts' bytes as sent, Firefox does
  // not; the speed and time left are page.spec's, as nothing moves here).
  await expect(page.getByTestId("overall")).toContainText(/ MiB of 40\.0 MiB/);
  // Parts stored before the click; those on their way when it came are stopped, and
  // may still reach the store (their answer never reaches the page), so may go again.
  paused = true;
  await row.getByRole("button", { name: /^Pause / }).click();
  pauseClicked();
  await expect(row).toHaveAttribute("data-state", "paused");
  await expect(row).toContainText("Paused");

  const counts = countParts(page);
  // The page keeps working meanwhile: another file goes all the way, and nothing of the
  // paused one goes with it.
  await uploadAnother(page, "meanwhile.bin");
  expect(counts.size, "nothing is sent while paused").toBe(0);

  await row.getByRole("button", { name: /^Resume / }).click();
  expect(await storedDigest(page, "paused.bin")).toBe(digest);
  expect(storedBefore.size, "parts stored before the pause").toBeGreaterThan(0);
  const again = [...counts.keys()].filter((n) => storedBefore.has(n));
  expect(again, "parts stored before the pause are not sent again").toEqual([]);
});

test("cancel stops the upload and leaves nothing in the store", { tag: "@store" }, async ({ page }) => {
  await openPage(page);
  await slowParts(page, 300);
  await dropGeneratedFiles(page, [{ name: "cancelled.bin", size: 40 * MIB, type: "" }]);
  const row = fileRow(page, "cancelled.bin");
  await partStored(page);
  expect(await multipartUploadsInStore("cancelled.bin")).toBe(1);
  const aborted = page.waitForResponse((r) => r.url().endsWith("/api/uploads/abort"));
  await row.getByRole("button", { name: /^Cancel / }).click();
  await expect(row).toHaveAttribute("data-state", "cancelled");
  expect((await aborted).status()).toBe(200);
  // ListMultipartUploads is empty: the store holds no upload, and no part of one.
  await expect.poll(() => multipartUploadsInStore("cancelled.bin")).toBe(0);
});

test("Pause all stops every upload, Resume all finishes them, Cancel all leaves nothing in the store", async ({
  page,
}) => {
  await openPage(page);
  // Slow enough that no file finishes between a part landing and the click.
  await slowParts(page, 1_000);
  const digests = await dropGeneratedFiles(page, [
    { name: "all-a.bin", size: 40 * MIB, type: "" },
    { name: "all-b.bin", size: 40 * MIB, type: "" },
  ]);
  const [a, b] = [fileRow(page, "all-a.bin"), fileRow(page, "all-b.bin")];
  await partStored(page);
  await page.getByRole("button", { name: "Pause all", exact: true }).click();
  await expect(a).toHaveAttribute("data-state", "paused");
  await expect(b).toHaveAttribute("data-state", "paused");
  const counts = countParts(page);
  await uploadAnother(page, "meanwhile-all.bin");
  expect(counts.size, "nothing is sent while all are paused").toBe(0);
  await page.getByRole("button", { name: "Resume all", exact: true }).click();
  expect(await storedDigest(page, "all-a.bin")).toBe(digests[0]);
  expect(await storedDigest(page, "all-b.bin")).toBe(digests[1]);

  // Two more, cancelled together while both are on their way.
  await dropGeneratedFiles(page, [
    { name: "all-c.bin", size: 40 * MIB, type: "" },
    { name: "all-d.bin", size: 40 * MIB, type: "" },
  ]);
  const [c, d] = [fileRow(page, "all-c.bin"), fileRow(page, "all-d.bin")];
  await expect.poll(() => multipartUploadsInStore("all-")).toBe(2);
  await partStored(page);
  const aborts: number[] = [];
  page.on("response", (r) => {
    if (r.url().endsWith("/api/uploads/abort")) aborts.push(r.status());
  });
  await page.getByRole("button", { name: "Cancel all", exact: true }).click();
  await expect(c).toHaveAttribute("data-state", "cancelled");
  await expect(d).toHaveAttribute("data-state", "cancelled");
  await expect.poll(() => aborts).toEqual([200, 200]);
  await expect.poll(() => multipartUploadsInStore("all-")).toBe(0);
  // What was done stays done.
  await expect(a).toHaveAttribute("data-state", "done");
  expect(await storedDigest(page, "all-b.bin")).toBe(digests[1]);
});

relayed("after a reload, adding the same file again sends only the missing parts", { tag: "@store" }, async ({
  page,
  drop,
}) => {
  const dir = scratchDir("reload");
  const path = join(dir, "reloaded.bin");
  const bytes = randomBytes(40 * MIB);
  writeFileSync(path, bytes);

  await openPage(page, drop.front.url);
  // Parts 1 and 2 reach the store; the relay cuts the connection of every later one.
  const laterParts = (method: string, url: URL) => method === "PUT" && (partNumber(url) ?? 0) >= 3;
  const mend = drop.store.fault(laterParts, "reset", Infinity);
  await page.getByTestId("file-picker").setInputFiles(path);
  await expect.poll(() => [1, 2].map((n) => outcomes(drop.store, part(n)).includes(200))).toEqual([true, true]);
  // The page has written both parts down for after the reload.
  await expect.poll(() => savedParts(page, "reloaded.bin")).toBe(2);
  expect(drop.store.seen(laterParts).every((a) => a.fault === "reset"), "no later part got through").toBe(true);

  await page.reload();
  await openPage(page, drop.front.url);
  mend();
  const unfinished = page.locator(".unfinished");
  await expect(unfinished).toContainText("reloaded.bin");
  await expect(unfinished).toContainText("2 of 5 parts sent");

  const counts = countParts(page);
  await page.getByTestId("file-picker").setInputFiles(path);
  expect(await storedDigest(page, "reloaded.bin", drop.store.url)).toBe(sha256(bytes));
  expect([...counts.keys()].sort()).toEqual([3, 4, 5]);
  await expect(unfinished).toHaveCount(0);
});

test("going offline pauses uploads, coming back online finishes them, and one paused by hand stays paused", async ({
  page,
}) => {
  await openPage(page);
  await slowParts(page, 300);
  // The file to pause by hand goes slower still, so it is still running when paused.
  await page.route(
    (url) => partNumber(url) !== undefined && url.pathname.includes("held.bin"),
    async (route) => {
      await sleep(3_000);
      await route.continue().catch(() => {});
    },
  );
  const [digest, heldDigest] = await dropGeneratedFiles(page, [
    { name: "offline.bin", size: 40 * MIB, type: "" },
    { name: "held.bin", size: 24 * MIB, type: "" },
  ]);
  const row = fileRow(page, "offline.bin");
  const held = fileRow(page, "held.bin");
  await partStored(page);
  await held.getByRole("button", { name: /^Pause / }).click();
  await expect(held).toHaveAttribute("data-state", "paused");
  // From here on, until Resume, nothing of it may start.
  const heldPuts: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "PUT" && r.url().includes("held.bin")) heldPuts.push(r.url());
  });

  await page.context().setOffline(true);
  await expect(row).toHaveAttribute("data-state", "paused");
  await expect(row).toContainText("while offline");
  await expect(page.getByRole("status").filter({ hasText: "offline" })).toContainText("You are offline");

  await page.context().setOffline(false);
  expect(await storedDigest(page, "offline.bin")).toBe(digest);
  // Back online, what the person paused stays paused: nothing of it was sent.
  await expect(held).toHaveAttribute("data-state", "paused");
  expect(heldPuts, "PUTs of the file paused by hand").toEqual([]);
  await held.getByRole("button", { name: /^Resume / }).click();
  expect(await storedDigest(page, "held.bin")).toBe(heldDigest);
});
