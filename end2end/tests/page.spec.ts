import { test, expect, type Locator, type Page } from "@playwright/test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  MIB,
  chunksFetched,
  dropGeneratedFiles,
  fileRow,
  openPage,
  scratchDir,
  screenshotPath,
  seriousViolations,
  sha256,
  sleep,
  storedDigest,
  withoutFileSystemAccess,
} from "./helpers";

// The page itself: folders, paste, thumbnails, the keyboard, accessibility, and the
// screenshots the README shows.

/** The key a finished file's download link points at (its path after the bucket). */
async function storedKey(page: Page, name: string): Promise<string> {
  const row = fileRow(page, name);
  await expect(row).toHaveAttribute("data-state", "done");
  const href = await row.locator("a.download").getAttribute("href");
  return decodeURIComponent(new URL(href!).pathname);
}


test("a picked folder keeps each file's path in its key", async ({ page }) => {
  await openPage(page);
  const root = scratchDir("folder");
  const folder = join(root, "holiday");
  mkdirSync(join(folder, "day 1"), { recursive: true });
  writeFileSync(join(folder, "notes.txt"), "the trip\n");
  writeFileSync(join(folder, "day 1", "beach.txt"), "sand\n");
  await page.getByTestId("folder-picker").setInputFiles(folder);
  expect(await storedKey(page, "holiday/notes.txt")).toMatch(/\/[0-9a-f]{32}\/holiday\/notes\.txt$/);
  expect(await storedKey(page, "holiday/day 1/beach.txt")).toMatch(/\/[0-9a-f]{32}\/holiday\/day 1\/beach\.txt$/);
  expect(await storedDigest(page, "holiday/day 1/beach.txt")).toBe(sha256(Buffer.from("sand\n")));
});

test("a dropped folder keeps each file's path in its key", async ({ page }) => {
  await openPage(page);
  const root = scratchDir("drop");
  const folder = join(root, "album");
  mkdirSync(join(folder, "2024"), { recursive: true });
  writeFileSync(join(folder, "2024", "cover.txt"), "cover\n");
  writeFileSync(join(folder, "index.txt"), "index\n");
  // A real drag of a real folder, through Chromium's input pipeline.
  const cdp = await page.context().newCDPSession(page);
  const zone = await page.getByTestId("drop-zone").boundingBox();
  const at = { x: zone!.x + zone!.width / 2, y: zone!.y + zone!.height / 2 };
  const data = { items: [], files: [folder], dragOperationsMask: 1 };
  for (const type of ["dragEnter", "dragOver", "drop"]) {
    await cdp.send("Input.dispatchDragEvent", { type, ...at, data });
  }
  expect(await storedKey(page, "album/2024/cover.txt")).toMatch(/\/album\/2024\/cover\.txt$/);
  expect(await storedKey(page, "album/index.txt")).toMatch(/\/album\/index\.txt$/);
});

test("pasted files are uploaded", async ({ page }) => {
  await openPage(page);
  const digest = await page.evaluate(async () => {
    const bytes = new TextEncoder().encode("pasted from the clipboard\n");
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "pasted.txt", { type: "text/plain" }));
    window.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true }));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  });
  expect(await storedDigest(page, "pasted.txt")).toBe(digest);
});

test("images show a thumbnail, other files their type", async ({ page }) => {
  await openPage(page);
  await page.evaluate(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 8;
    canvas.getContext("2d")!.fillRect(0, 0, 8, 8);
    const png = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), "image/png"));
    const transfer = new DataTransfer();
    transfer.items.add(new File([png], "square.png", { type: "image/png" }));
    transfer.items.add(new File(["%PDF-1.4"], "report.pdf", { type: "application/pdf" }));
    document.querySelector('[data-testid="drop-zone"]')!.dispatchEvent(
      new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer }),
    );
  });
  await expect(fileRow(page, "square.png").locator("img.thumb")).toHaveAttribute("src", /^blob:/);
  await expect(fileRow(page, "report.pdf").locator(".type-label")).toHaveText("PDF");
});

test("keyboard only: pick a file, pause, resume, download", async ({ page }) => {
  // The picker Enter opens must be one Playwright can answer: the input's.
  await withoutFileSystemAccess(page);
  await openPage(page);
  // Slow parts down so there is time to Tab to Pause.
  await page.route(/partNumber=/, async (route) => {
    await sleep(2_000);
    await route.continue().catch(() => {});
  });
  const dir = scratchDir("keys");
  const bytes = Buffer.alloc(24 * MIB, 7);
  writeFileSync(join(dir, "typed.bin"), bytes);

  // Tab to the picker; Enter opens it.
  let focused = "";
  for (let i = 0; i < 10 && focused !== "Choose files"; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.closest("label")?.textContent?.trim() ?? "");
  }
  expect(focused).toBe("Choose files");
  const chooser = page.waitForEvent("filechooser");
  await page.keyboard.press("Enter");
  await (await chooser).setFiles(join(dir, "typed.bin"));

  // Each control is reached with Tab alone, as a keyboard user reaches it (going round
  // the whole page if need be: the stored files list below may hold many links).
  const tabTo = async (target: Locator) => {
    for (let i = 0; i < 400; i++) {
      if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
      await page.keyboard.press("Tab");
    }
    await expect(target, "reached with Tab").toBeFocused();
  };
  const row = fileRow(page, "typed.bin");
  await expect(row).toHaveAttribute("data-state", "uploading");
  await tabTo(row.getByRole("button", { name: "Pause typed.bin" }));
  await page.keyboard.press("Enter");
  await expect(row).toHaveAttribute("data-state", "paused");
  await tabTo(row.getByRole("button", { name: "Resume typed.bin" }));
  await page.keyboard.press(" ");
  await expect(row).toHaveAttribute("data-state", "done", { timeout: 90_000 });
  // The download link is reachable and labelled.
  await tabTo(row.getByRole("link", { name: "Download typed.bin" }));
  expect(await storedDigest(page, "typed.bin")).toBe(sha256(bytes));
});

test("the stored files list pages, downloads the same bytes, copies links and deletes", { tag: "@store" }, async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const chunks = chunksFetched(page);
  await openPage(page);
  // More files than one page of the list holds.
  const specs = Array.from({ length: 21 }, (_, i) => ({
    name: `listed-${String(i).padStart(2, "0")}.txt`,
    size: 100 + i,
    type: "text/plain",
  }));
  const digests = await dropGeneratedFiles(page, specs);
  for (const spec of specs) {
    await expect(fileRow(page, spec.name)).toHaveAttribute("data-state", "done");
  }
  const list = page.getByTestId("stored-files");
  const rows = list.locator("li.stored-file");
  await expect(rows).toHaveCount(20);
  const more = list.getByRole("button", { name: "Show more" });
  while (await more.isVisible()) {
    const before = await rows.count();
    await more.click();
    await expect.poll(() => rows.count()).toBeGreaterThan(before);
  }
  await expect(rows.filter({ hasText: /listed-\d\d\.txt/ })).toHaveCount(21);

  const row = rows.filter({ hasText: "listed-07.txt" });
  const href = (await row.locator("a.download").getAttribute("href"))!;
  const response = await page.request.get(href);
  expect(response.headers()["content-disposition"]).toContain("listed-07.txt");
  expect(sha256(await response.body())).toBe(digests[7]);

  await row.getByRole("button", { name: "Copy link listed-07.txt" }).click();
  await expect(list.getByRole("status")).toHaveText("Link copied.");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(href);

  page.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: "Delete listed-07.txt" }).click();
  await expect(list.getByRole("status")).toHaveText("Deleted listed-07.txt.");
  await expect(row).toHaveCount(0);
  expect((await page.request.get(href)).status()).toBe(404);
  // The list's code came as a chunk of its own (this drop lists its files): the only
  // one this page fetched.
  expect(chunks).toEqual(["stored_files_list"]);
});


test("a part of the page that cannot be fetched says so, and the rest of the page works", async ({ page }) => {
  // The stored files' list is a chunk of its own; the network drops its fetch.
  await page.route("**/pkg/split_stored_files_list.wasm", (route) => route.abort("connectionreset"));
  await openPage(page);
  await expect(page.getByTestId("chunk-failed")).toHaveText(
    "This part of the page could not be loaded. Reload the page to try again.",
  );
  await expect(page.getByTestId("stored-files")).toHaveCount(0);
  // The page did not stop: a file still goes up.
  await dropGeneratedFiles(page, [{ name: "after-the-failure.txt", size: 2000, type: "text/plain" }]);
  await expect(fileRow(page, "after-the-failure.txt")).toHaveAttribute("data-state", "done");
});

test("no serious accessibility problems when idle, uploading and done; screenshots", async ({ page }) => {
  await page.setViewportSize({ width: 900, height: 700 });
  await openPage(page);
  expect(await seriousViolations(page), "idle").toEqual([]);
  await page.screenshot({ path: screenshotPath("idle.png") });

  // Parts held back a while, so the picture shows uploads in progress.
  await page.route(/partNumber=/, async (route) => {
    await sleep(2_500);
    await route.continue().catch(() => {});
  });
  await dropGeneratedFiles(page, [
    { name: "holiday video.mp4", size: 48 * MIB, type: "video/mp4" },
    { name: "report.pdf", size: 2 * MIB, type: "application/pdf" },
  ]);
  await expect(fileRow(page, "holiday video.mp4")).toContainText("left");
  await expect(page.getByTestId("overall")).toContainText("left");
  expect(await seriousViolations(page), "uploading").toEqual([]);
  await page.screenshot({ path: screenshotPath("uploading.png") });

  await expect(fileRow(page, "holiday video.mp4")).toHaveAttribute("data-state", "done", { timeout: 90_000 });
  await expect(fileRow(page, "report.pdf")).toHaveAttribute("data-state", "done");
  expect(await seriousViolations(page), "done").toEqual([]);
  await page.screenshot({ path: screenshotPath("done.png"), fullPage: true });
});
