import { test, expect, type Page } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  MIB,
  chunksFetched,
  fileRow,
  isStorePut,
  openPage,
  partNumber,
  recordsIn,
  savedParts,
  scratchDir,
  sha256,
  withoutFileSystemAccess,
} from "./helpers";

// Resuming after a reload with one click, through the File System Access API.
//
// Playwright cannot drive the browser's own pickers (`showOpenFilePicker` raises no
// `filechooser` event: microsoft/playwright#8850), so these tests put real files in the
// page's origin private file system (OPFS) and make the two picker functions answer
// those files' handles. Everything after the picker is the browser's own: real
// `FileSystemFileHandle`s kept in IndexedDB across a reload, opened again, checked and
// sent. OPFS handles never need a permission prompt; the prompt a folder picked from
// disk shows after a reload is not covered here (docs/page.md says so).

/** Makes the pickers answer handles from OPFS: `picked/*` for files, `album` for a folder. */
async function pickersFromOpfs(page: Page) {
  await page.addInitScript(() => {
    const opfs = () => navigator.storage.getDirectory();
    Object.assign(window, {
      showOpenFilePicker: async () => {
        const folder = await (await opfs()).getDirectoryHandle("picked");
        const files: FileSystemHandle[] = [];
        // @ts-expect-error: `values()` is missing from TypeScript's DOM types.
        for await (const handle of folder.values()) files.push(handle);
        return files;
      },
      showDirectoryPicker: async () => (await opfs()).getDirectoryHandle("album"),
    });
  });
}

/** Writes random files of `size` bytes into OPFS at each path; answers their SHA-256s. */
async function writeOpfs(page: Page, files: { path: string; size: number }[]): Promise<Map<string, string>> {
  const digests = await page.evaluate(async (files) => {
    const out: [string, string][] = [];
    for (const { path, size } of files) {
      let folder = await navigator.storage.getDirectory();
      const names = path.split("/");
      for (const name of names.slice(0, -1)) folder = await folder.getDirectoryHandle(name, { create: true });
      const handle = await folder.getFileHandle(names[names.length - 1], { create: true });
      const bytes = new Uint8Array(size);
      for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65536, size)));
      const writable = await handle.createWritable();
      await writable.write(bytes);
      await writable.close();
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      out.push([path, Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")]);
    }
    return out;
  }, files);
  return new Map(digests);
}

/** Empties OPFS, so each test starts with only its own files. */
async function clearOpfs(page: Page) {
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    // @ts-expect-error: `keys()` is missing from TypeScript's DOM types.
    for await (const name of root.keys()) await root.removeEntry(name, { recursive: true });
  });
}

/** The SHA-256 of what the store serves for the done row of `name`. */
async function digestOfRow(page: Page, name: string): Promise<string> {
  const row = fileRow(page, name);
  await expect(row).toHaveAttribute("data-state", "done");
  const href = await row.locator("a.download").getAttribute("href");
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  return sha256(await response.body());
}

/** The store PUTs the page starts: parts by number, whole files by the file's name. */
function countPuts(page: Page) {
  const parts: number[] = [];
  const files: string[] = [];
  page.on("request", (request) => {
    if (!isStorePut(request.method(), request.url())) return;
    const n = partNumber(request.url());
    if (n !== undefined) parts.push(n);
    else files.push(decodeURIComponent(new URL(request.url()).pathname.split("/").pop()!));
  });
  return { parts, files };
}

const queue = (page: Page) => page.getByRole("list", { name: "Files being uploaded" });
const unfinished = (page: Page) => page.locator(".unfinished");

test.beforeEach(async ({ page }) => {
  await pickersFromOpfs(page);
  await openPage(page);
  await clearOpfs(page);
});

test("after a reload, Resume all opens the kept files again and sends only what the store lacks", { tag: "@store" }, async ({
  page,
}) => {
  // A large file, and a folder of more small files than the page starts at once (128):
  // when the page goes, some have landed, some are on their way and some never started.
  const folder = Array.from({ length: 140 }, (_, i) => ({
    path: `album/${i < 20 ? "deep/" : ""}f${String(i).padStart(3, "0")}.txt`,
    size: 1024 + i,
  }));
  const digests = await writeOpfs(page, [{ path: "picked/big.bin", size: 40 * MIB }, ...folder]);

  // Parts 1 and 2 reach the store, later ones are held on their way (never answered,
  // so the page neither gives up nor moves on); ten small files land, the rest are held.
  await page.route(
    (url) => (partNumber(url) ?? 0) >= 3,
    () => {},
  );
  let let_through = 10;
  await page.route(
    (url) => url.searchParams.has("X-Amz-Signature") && partNumber(url) === undefined,
    (route) => {
      if (route.request().method() === "PUT" && let_through-- <= 0) return; // held: never answered
      return route.continue();
    },
  );
  await page.getByText("Choose files").click();
  await expect(fileRow(page, "big.bin")).toBeVisible();
  // The folder once the large file's two parts are in (and written down for a reload):
  // its held PUTs would otherwise take every connection to the store before them.
  await expect.poll(() => savedParts(page, "big.bin")).toBe(2);
  await page.getByText("Choose a folder").click();
  await expect(queue(page)).toHaveAttribute("data-files", "141");
  await expect(queue(page)).toHaveAttribute("data-done", "10");
  // The page has written down what a reload needs: the two parts, and every file not
  // yet done (its handle).
  await expect.poll(() => recordsIn(page, "kept")).toBe(131);
  // The ten files done before the reload, and where the store serves them.
  const doneBefore = new Map(
    await page
      .locator('li.file[data-state="done"]')
      .evaluateAll((rows) =>
        rows.map((row) => [
          row.querySelector(".file-name")?.textContent ?? "",
          row.querySelector("a.download")?.getAttribute("href") ?? "",
        ]),
      ),
  );
  expect(doneBefore.size).toBe(10);
  // The list of unfinished uploads is a chunk of its own, fetched once there are some.
  const chunks = chunksFetched(page);

  await page.reload();
  await openPage(page);
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await expect(unfinished(page)).toContainText("big.bin");
  await expect(unfinished(page)).toContainText("2 of 5 parts sent");
  await expect(unfinished(page)).toContainText("The page kept these files");
  // Fifty are listed, and how many more there are.
  await expect(unfinished(page).locator("li")).toHaveCount(50);
  await expect(unfinished(page)).toContainText("and 81 more.");
  expect(chunks).toContain("unfinished_list");

  const puts = countPuts(page);
  await page.getByTestId("resume-unfinished").click();
  await expect(queue(page)).toHaveAttribute("data-files", "131");
  await expect(queue(page)).toHaveAttribute("data-done", "131", { timeout: 90_000 });
  await expect(queue(page)).toHaveAttribute("data-failed", "0");
  await expect(unfinished(page)).toHaveCount(0);

  expect(puts.parts.sort(), "only the missing parts are sent").toEqual([3, 4, 5]);
  expect(puts.files.length, "each small file not yet stored is sent once").toBe(130);
  expect(new Set(puts.files).size).toBe(130);
  expect(await digestOfRow(page, "big.bin")).toBe(digests.get("picked/big.bin"));
  // Every file of the folder is stored intact: the ten that landed before the reload
  // (not in this queue) through their links from then, the others through their rows.
  const check = async (path: string) => {
    const before = [...doneBefore].find(([name]) => name.endsWith(path))?.[1];
    if (before === undefined) {
      expect(await digestOfRow(page, path), path).toBe(digests.get(path));
      return;
    }
    await expect(fileRow(page, path), `${path} was not sent again`).toHaveCount(0);
    const response = await page.request.get(before);
    expect(response.status(), path).toBe(200);
    expect(sha256(await response.body()), path).toBe(digests.get(path));
  };
  for (let at = 0; at < folder.length; at += 50) {
    await Promise.all(folder.slice(at, at + 50).map(({ path }) => check(path)));
  }
  expect(await recordsIn(page, "kept"), "nothing is kept once all are stored").toBe(0);
});

test("a kept file that changed before Resume is refused with its reason, and Discard forgets it", async ({
  page,
}) => {
  const digests = await writeOpfs(page, [
    { path: "picked/changing.bin", size: 24 * MIB },
    { path: "picked/steady.txt", size: 4096 },
  ]);
  // Part 1 lands; every other PUT is held on its way.
  await page.route(
    (url) => url.searchParams.has("X-Amz-Signature") && partNumber(url) !== 1,
    () => {},
  );
  await page.getByText("Choose files").click();
  await expect(queue(page)).toHaveAttribute("data-files", "2");
  await expect.poll(() => savedParts(page, "changing.bin")).toBe(1);
  await expect.poll(() => recordsIn(page, "kept")).toBe(2);

  await page.reload();
  await openPage(page);
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await writeOpfs(page, [{ path: "picked/changing.bin", size: 24 * MIB }]);

  await page.getByTestId("resume-unfinished").click();
  const changed = unfinished(page).locator("li", { hasText: "changing.bin" });
  await expect(changed).toContainText("not resumed: it changed since it was added");
  await expect(changed.getByRole("button", { name: "Resume changing.bin" })).toHaveCount(0);
  expect(await digestOfRow(page, "steady.txt")).toBe(digests.get("picked/steady.txt"));

  // Discard aborts its multipart upload in the store and forgets the file.
  const aborted = page.waitForResponse((r) => r.url().endsWith("/api/uploads/abort"));
  await changed.getByRole("button", { name: "Discard changing.bin" }).click();
  expect((await aborted).status()).toBe(200);
  await expect(unfinished(page)).toHaveCount(0);
  await expect.poll(() => recordsIn(page, "kept")).toBe(0);
  await expect.poll(() => recordsIn(page, "uploads")).toBe(0);
});

test("a file added again after a reload whose first part differs is not completed with the old parts", { tag: "@store" }, async ({
  page,
}) => {
  // The same name, size and modification time, but other bytes: only the first
  // part's checksum can tell it is not the file whose parts the store holds.
  const path = join(scratchDir("changed"), "first-part.bin");
  writeFileSync(path, randomBytes(24 * MIB));
  // A whole second, so putting it back is exact (the page compares milliseconds).
  const modified = Math.floor(Date.now() / 1000) - 60;
  utimesSync(path, modified, modified);
  await page.route(
    (url) => (partNumber(url) ?? 0) >= 2,
    () => {},
  );
  await page.getByTestId("file-picker").setInputFiles(path);
  await expect.poll(() => savedParts(page, "first-part.bin")).toBe(1);

  await page.reload();
  await openPage(page);
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await expect(unfinished(page)).toContainText("first-part.bin");
  const now = randomBytes(24 * MIB);
  writeFileSync(path, now);
  utimesSync(path, modified, modified);
  expect(statSync(path).mtimeMs).toBe(modified * 1000);

  const puts = countPuts(page);
  const aborted = page.waitForResponse((r) => r.url().endsWith("/api/uploads/abort"));
  await page.getByTestId("file-picker").setInputFiles(path);
  const row = fileRow(page, "first-part.bin");
  await expect(row).toHaveAttribute("data-state", "failed");
  await expect(row).toContainText("this file changed since its upload began");
  expect((await aborted).status(), "the old upload is aborted in the store").toBe(200);
  expect(puts.parts, "no part is sent on top of the old ones").toEqual([]);
  await expect(unfinished(page)).toHaveCount(0);

  // Retry uploads the file as it is now.
  await row.getByRole("button", { name: /^Retry / }).click();
  expect(await digestOfRow(page, "first-part.bin")).toBe(sha256(now));
});

test("a file added again whose first part never landed is checked against a part that did", { tag: "@store" }, async ({
  page,
}) => {
  // Part 1 never reaches the store; parts 2 and 3 do. The file then changes after its
  // first part, keeping its name, size and modification time: part 1 alone would look
  // the same, so the check must read a part the upload would be completed with.
  const path = join(scratchDir("first-held"), "first-held.bin");
  const before = randomBytes(24 * MIB);
  writeFileSync(path, before);
  const modified = Math.floor(Date.now() / 1000) - 60;
  utimesSync(path, modified, modified);
  await page.route(
    (url) => partNumber(url) === 1,
    () => {},
  );
  await page.getByTestId("file-picker").setInputFiles(path);
  await expect.poll(() => savedParts(page, "first-held.bin")).toBe(2);

  await page.reload();
  await openPage(page);
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await expect(unfinished(page)).toContainText("first-held.bin");
  const now = Buffer.concat([before.subarray(0, 8 * MIB), randomBytes(16 * MIB)]);
  writeFileSync(path, now);
  utimesSync(path, modified, modified);

  const puts = countPuts(page);
  const aborted = page.waitForResponse((r) => r.url().endsWith("/api/uploads/abort"));
  await page.getByTestId("file-picker").setInputFiles(path);
  const row = fileRow(page, "first-held.bin");
  await expect(row).toHaveAttribute("data-state", "failed");
  await expect(row).toContainText("this file changed since its upload began");
  expect((await aborted).status(), "the old upload is aborted in the store").toBe(200);
  expect(puts.parts, "no part is sent on top of the old ones").toEqual([]);
  await row.getByRole("button", { name: /^Retry / }).click();
  expect(await digestOfRow(page, "first-held.bin")).toBe(sha256(now));
});

test("without the File System Access API the pickers are the inputs, and a reload asks for the files again", async ({
  page,
}) => {
  await withoutFileSystemAccess(page);
  await page.reload();
  await openPage(page);
  expect(await page.evaluate(() => "showOpenFilePicker" in window)).toBe(false);
  await page.route(
    (url) => (partNumber(url) ?? 0) >= 2,
    () => {},
  );
  const chooser = page.waitForEvent("filechooser");
  await page.getByText("Choose files").click();
  await (await chooser).setFiles({ name: "plain.bin", mimeType: "", buffer: Buffer.alloc(24 * MIB, 3) });
  await expect.poll(() => savedParts(page, "plain.bin")).toBe(1);
  expect(await recordsIn(page, "kept"), "no handle, nothing kept").toBe(0);

  await page.reload();
  await openPage(page);
  await expect(unfinished(page)).toContainText("plain.bin");
  await expect(unfinished(page)).toContainText("Add the same file again");
  await expect(page.getByTestId("resume-unfinished")).toHaveCount(0);
  await unfinished(page).getByRole("button", { name: "Discard plain.bin" }).click();
  await expect(unfinished(page)).toHaveCount(0);
});
