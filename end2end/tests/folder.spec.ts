import { expect, test } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIB, isStorePut, openPage, scratchDir, sha256 } from "./helpers";

test("a folder of 500 small files and a few large ones lands intact, in batches, with no 429", async ({
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
  await page.getByTestId("more-files").getByRole("button", { name: "Show more" }).click();
  await expect(page.locator('li.file[data-state="done"]')).toHaveCount(files.length);

  // Every object is its source, under its folder's path.
  const links = await page.locator("li.file").evaluateAll((rows) =>
    rows.map((row) => [row.querySelector(".file-name")?.textContent ?? "", row.querySelector("a.download")?.getAttribute("href") ?? ""]),
  );
  const byPath = new Map(links.map(([name, href]) => [name, href]));
  for (const file of files) {
    const shown = `camera card/${file.path}`;
    const href = byPath.get(shown);
    expect(href, shown).toBeTruthy();
    const response = await page.request.get(href!);
    expect(response.status(), shown).toBe(200);
    expect(sha256(await response.body()), shown).toBe(file.digest);
  }

  // Small files cost their PUT and a share of two batch calls: far fewer calls than files.
  const small = calls.filter((c) => c === "start-batch" || c === "complete-batch").length;
  expect(calls.filter((c) => c === "start" || c === "complete"), "large files complete on their own").toHaveLength(2);
  expect(small, `${small} batch calls for ${files.length} files`).toBeLessThan(files.length / 4);
  expect(puts).toBeGreaterThanOrEqual(500 + 2 + 3);
});
