import { test, expect, type Page } from "@playwright/test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MIB = 1024 * 1024;

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Waits until the page has hydrated (the WASM bundle has taken over the drop zone). */
async function openPage(page: Page) {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "s3drop" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/**
 * Drops files on the drop zone as a person would: a `drop` event whose DataTransfer
 * holds the files. The bytes are made in the page (random, `sizes[i]` long); answers
 * each file's SHA-256 computed in the page before the drop.
 */
async function dropGeneratedFiles(page: Page, files: { name: string; size: number; type: string }[]) {
  return page.evaluate(async (files) => {
    const transfer = new DataTransfer();
    const digests: string[] = [];
    for (const spec of files) {
      const bytes = new Uint8Array(spec.size);
      for (let at = 0; at < bytes.length; at += 65536) {
        crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65536, bytes.length)));
      }
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      digests.push(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
      transfer.items.add(new File([bytes], spec.name, { type: spec.type }));
    }
    const zone = document.querySelector('[data-testid="drop-zone"]')!;
    zone.dispatchEvent(new DragEvent("dragenter", { bubbles: true, cancelable: true, dataTransfer: transfer }));
    zone.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: transfer }));
    zone.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer }));
    return digests;
  }, files);
}

/** Waits for a file's row to be done and answers the SHA-256 of what the store serves. */
async function storedDigest(page: Page, name: string): Promise<string> {
  const row = page.locator("li.file", { hasText: name });
  await expect(row).toHaveAttribute("data-state", "done");
  const href = await row.locator("a.download").getAttribute("href");
  expect(href).toBeTruthy();
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  return sha256(await response.body());
}

test("a dropped small file lands in the store intact", async ({ page }) => {
  await openPage(page);
  const [digest] = await dropGeneratedFiles(page, [{ name: "small note.txt", size: 1234, type: "text/plain" }]);
  expect(await storedDigest(page, "small note.txt")).toBe(digest);
});

test("a dropped 40 MiB file goes up in parts and lands intact", async ({ page }) => {
  await openPage(page);
  const parts: number[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (request.method() === "PUT" && url.searchParams.has("partNumber")) {
      parts.push(Number(url.searchParams.get("partNumber")));
    }
  });
  const [digest] = await dropGeneratedFiles(page, [
    { name: "big.bin", size: 40 * MIB, type: "application/octet-stream" },
  ]);
  expect(await storedDigest(page, "big.bin")).toBe(digest);
  // 40 MiB in 8 MiB parts: five parts, each sent straight to the store.
  expect([...new Set(parts)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
});

test("several picked files upload side by side", async ({ page }) => {
  await openPage(page);
  const dir = mkdtempSync(join(tmpdir(), "s3drop-pick-"));
  const files = [
    { name: "empty.txt", bytes: Buffer.alloc(0) },
    { name: "one byte.bin", bytes: randomBytes(1) },
    { name: "nine MiB.bin", bytes: randomBytes(9 * MIB) },
    { name: "日本語 ファイル.txt", bytes: Buffer.from("こんにちは\n") },
  ];
  for (const file of files) {
    writeFileSync(join(dir, file.name), file.bytes);
  }
  await page.locator('input[type="file"]').setInputFiles(files.map((f) => join(dir, f.name)));
  for (const file of files) {
    expect(await storedDigest(page, file.name), file.name).toBe(sha256(file.bytes));
  }
});
