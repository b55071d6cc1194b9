import { expect, test } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIB, isStorePut, openPage, partNumber, scratchDir, sha256, sleep, storedDigest } from "./helpers";

test("a folder of 500 small files and a few large ones lands intact, in batches, with no 429", { tag: "@store" }, async ({
  page,
}) => {
  test.setTimeout(300_000);
  const root = scratchDir("camera card");
  const files: { path: string; digest: string }[] = [];
  for (let i = 0; i < 500; i++) {
    const dir = join("DCIM", `${100 + (i % 5)}CANON`);
    mkdirSync(join(root, dir), { recursive: true });
    const bytes = randomBytes(1 + ((i * 997) % 6000));
    const path = join(dir, `IMG_${String(i).padStart(4, "0")}.txt`);
    writeFileSync(join(root, path), bytes);
    files.push({ path, digest: sha256(bytes) });
  }
  for (const [i, size] of [9 * MIB, 17 * MIB + 3].entries()) {
    const bytes = randomBytes(size);
    const path = join("DCIM", `MVI_${i}.bin`);
    writeFileSync(join(root, path), bytes);
    files.push({ path, digest: sha256(bytes) });
  }

  await openPage(page);
  const calls: string[] = [];
  const refused: string[] = [];
  let puts = 0;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/api/uploads/")) calls.push(url.pathname.slice("/api/uploads/".length));
    if (isStorePut(request.method(), request.url())) puts++;
  });
  page.on("response", (response) => {
    if (response.status() === 429) refused.push(response.url());
  });
  await page.getByTestId("folder-picker").setInputFiles(root);

  const queue = page.locator("ul.queue");
  await expect(queue).toHaveAttribute("data-done", String(files.length), { timeout: 240_000 });
  await expect(queue).toHaveAttribute("data-failed", "0");
  expect(refused, "no call or PUT was refused for its rate").toEqual([]);
  // The queue draws 500 rows at first; the rest come with "Show more".
  await expect(page.locator("li.file")).toHaveCount(500);
  await expect(page.getByTestId("more-files")).toContainText("2 more files.");
  // From the keyboard: rows off screen are laid out only as they scroll into view, so the
  // button may move under a pointer while the page scrolls to it.
  await page.getByTestId("more-files").getByRole("button", { name: "Show more" }).press("Enter");
  await expect(page.locator('li.file[data-state="done"]')).toHaveCount(files.length);

  // Every object is its source, under its folder's path.
  const links = await page.locator("li.file").evaluateAll((rows) =>
    rows.map((row) => [row.querySelector(".file-name")?.textContent ?? "", row.querySelector("a.download")?.getAttribute("href") ?? ""]),
  );
  const byPath = new Map(links.map(([name, href]) => [name, href]));
  for (let at = 0; at < files.length; at += 50) {
    await Promise.all(
      files.slice(at, at + 50).map(async (file) => {
        const shown = `camera card/${file.path}`;
        const href = byPath.get(shown);
        expect(href, shown).toBeTruthy();
        const response = await page.request.get(href!);
        expect(response.status(), shown).toBe(200);
        expect(sha256(await response.body()), shown).toBe(file.digest);
      }),
    );
  }

  // Small files cost their PUT and a share of two batch calls: far fewer calls than files.
  const small = calls.filter((c) => c === "start-batch" || c === "complete-batch").length;
  expect(calls.filter((c) => c === "start" || c === "complete"), "large files complete on their own").toHaveLength(2);
  expect(small, `${small} batch calls for ${files.length} files`).toBeLessThan(files.length / 4);
  expect(puts).toBeGreaterThanOrEqual(500 + 2 + 3);
});

test("a folder whose files the server refuses one by one uploads the others and shows each reason", async ({
  page,
}) => {
  const root = scratchDir("mixed");
  const good = ["ok 1.txt", "ok 2.txt"];
  for (const name of good) writeFileSync(join(root, name), randomBytes(100));
  // A folder name that disguises what is inside: the page does not check folders, the
  // server refuses the file in its batch, and the others go on.
  const disguised = join(root, "invoice\u202Efdp.exe");
  mkdirSync(disguised);
  writeFileSync(join(disguised, "inside.txt"), randomBytes(10));
  // A file name that does the same is refused by the page before it is sent.
  writeFileSync(join(root, "photo\u202Egpj.exe"), randomBytes(10));

  await openPage(page);
  const starts: string[][] = [];
  page.on("request", (request) => {
    if (request.url().endsWith("/api/uploads/start-batch")) {
      starts.push(request.postDataJSON().files.map((f: { name: string }) => f.name));
    }
  });
  await page.getByTestId("folder-picker").setInputFiles(root);
  for (const name of good) {
    await expect(page.locator("li.file", { hasText: name })).toHaveAttribute("data-state", "done");
  }
  const inside = page.locator("li.file", { hasText: "inside.txt" });
  await expect(inside).toHaveAttribute("data-state", "failed");
  await expect(inside).toContainText("Not accepted: a folder in the path is not a plain name");
  await expect(inside).toContainText("change the direction of its text");
  await expect(inside.getByRole("button", { name: /Retry/ })).toHaveCount(0);
  const photo = page.locator("li.file", { hasText: "gpj.exe" });
  await expect(photo).toHaveAttribute("data-state", "failed");
  await expect(photo).toContainText("Not accepted");
  // The server was asked for the disguised folder's file along with the others.
  expect(starts.flat().sort()).toEqual(["inside.txt", ...good].sort());
  await expect(page.locator("ul.queue")).toHaveAttribute("data-done", "2");
  await expect(page.locator("ul.queue")).toHaveAttribute("data-failed", "2");
});

test("after a reload in the middle of a folder, adding it again sends only what the store lacks", { tag: "@store" }, async ({
  page,
}) => {
  test.setTimeout(240_000);
  const root = scratchDir("reloaded");
  const files: { name: string; bytes: Buffer }[] = [];
  for (let i = 0; i < 300; i++) files.push({ name: `f${String(i).padStart(3, "0")}.txt`, bytes: randomBytes(1 + i * 7) });
  files.push({ name: "large.bin", bytes: randomBytes(20 * MIB) });
  for (const file of files) writeFileSync(join(root, file.name), file.bytes);
  const nameOf = (url: string) => decodeURIComponent(new URL(url).pathname).split("/").pop()!;

  await openPage(page);
  // Each PUT takes a tenth of a second longer, so the reload comes mid-folder.
  await page.route(
    (url) => url.searchParams.has("X-Amz-Signature"),
    async (route) => {
      await sleep(100);
      await route.continue().catch(() => {});
    },
  );
  await page.getByTestId("folder-picker").setInputFiles(root);
  const queue = page.locator("ul.queue");
  await expect.poll(async () => Number(await queue.getAttribute("data-done"))).toBeGreaterThanOrEqual(60);
  const doneBefore = await page
    .locator('li.file[data-state="done"] .file-name')
    .evaluateAll((names) => names.map((n) => n.textContent!.split("/").pop()!));
  expect(doneBefore.length, "the reload comes before the folder is done").toBeLessThan(files.length);

  await page.reload();
  await openPage(page);
  await page.unrouteAll();
  const sentAfter: string[] = [];
  page.on("request", (request) => {
    if (isStorePut(request.method(), request.url()) && partNumber(request.url()) === undefined) {
      sentAfter.push(nameOf(request.url()));
    }
  });
  await page.getByTestId("folder-picker").setInputFiles(root);
  await expect(queue).toHaveAttribute("data-done", String(files.length), { timeout: 120_000 });

  // Nothing finished before the reload was sent again; what was not, was.
  expect(sentAfter.filter((name) => doneBefore.includes(name))).toEqual([]);
  expect(sentAfter.length).toBeLessThanOrEqual(300 - doneBefore.filter((n) => n !== "large.bin").length);
  expect(sentAfter.length).toBeGreaterThan(0);
  // Fifty at a time: one by one, the checks took longer than the uploads.
  for (let at = 0; at < files.length; at += 50) {
    await Promise.all(
      files.slice(at, at + 50).map(async (file) => {
        expect(await storedDigest(page, file.name), file.name).toBe(sha256(file.bytes));
      }),
    );
  }
});
