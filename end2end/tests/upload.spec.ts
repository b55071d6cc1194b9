import { test, expect } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIB, dropGeneratedFiles, openPage, partNumber, scratchDir, sha256, storedDigest } from "./helpers";

test("a dropped small file lands in the store intact", async ({ page }) => {
  await openPage(page);
  const [digest] = await dropGeneratedFiles(page, [{ name: "small note.txt", size: 1234, type: "text/plain" }]);
  expect(await storedDigest(page, "small note.txt")).toBe(digest);
});

test("a dropped 40 MiB file goes up in parts and lands intact", async ({ page }) => {
  await openPage(page);
  const parts: number[] = [];
  page.on("request", (request) => {
    const n = partNumber(request.url());
    if (request.method() === "PUT" && n !== undefined) {
      parts.push(n);
    }
  });
  const [digest] = await dropGeneratedFiles(page, [
    { name: "big.bin", size: 40 * MIB, type: "application/octet-stream" },
  ]);
  expect(await storedDigest(page, "big.bin")).toBe(digest);
  // The object records the composite CRC32C of its five parts, and the page shows it.
  await expect(page.locator("li.file", { hasText: "big.bin" })).toContainText(/CRC32C \S{8}-5/);
  // 40 MiB in 8 MiB parts: five parts, each sent straight to the store.
  expect([...new Set(parts)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
});

test("several picked files upload side by side", async ({ page }) => {
  await openPage(page);
  const dir = scratchDir("pick");
  const files = [
    { name: "empty.txt", bytes: Buffer.alloc(0) },
    { name: "one byte.bin", bytes: randomBytes(1) },
    { name: "nine MiB.bin", bytes: randomBytes(9 * MIB) },
    { name: "日本語 ファイル.txt", bytes: Buffer.from("こんにちは\n") },
  ];
  for (const file of files) {
    writeFileSync(join(dir, file.name), file.bytes);
  }
  await page.getByTestId("file-picker").setInputFiles(files.map((f) => join(dir, f.name)));
  for (const file of files) {
    expect(await storedDigest(page, file.name), file.name).toBe(sha256(file.bytes));
  }
});
