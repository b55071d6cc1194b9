import { expect, test } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SHORT_URLS_PORT } from "../playwright.config";
import {
  MIB,
  crc32c,
  crc32cBase64,
  openPage,
  partNumber,
  scratchDir,
  sha256,
  storeClient,
  throttleUploads,
} from "./helpers";

// Presigned URLs that really expire in the store (S3, SeaweedFS and the embedded store
// answer 403 "Request has expired", Garage 400 "Date is too old"), with a server whose
// URLs live two seconds and a connection slow enough that signed parts wait longer
// than that for their turn.
test("a URL the store finds expired is signed again and the upload finishes", async ({ page }) => {
  test.setTimeout(180_000);
  // The page's clock runs ten minutes behind, as a laptop's may: the page believes its
  // URLs are fresh and sends them, and only the store's own answer says they expired.
  await page.clock.install({ time: Date.now() - 10 * 60_000 });
  await openPage(page, `http://localhost:${SHORT_URLS_PORT}/`);
  // 6 MB/s up: the first four 8 MiB parts take about six seconds, so the next four,
  // signed with them, have expired when their turn comes.
  await throttleUploads(page, 6_000_000);

  const refusals: { part: number; status: number; body: string }[] = [];
  const stored: number[] = [];
  page.on("response", async (response) => {
    const part = partNumber(response.url());
    if (response.request().method() !== "PUT" || part === undefined) return;
    if (response.ok()) stored.push(part);
    else refusals.push({ part, status: response.status(), body: await response.text().catch(() => "") });
  });

  const bytes = randomBytes(64 * MIB);
  const path = join(scratchDir("expiring"), "expiring.bin");
  writeFileSync(path, bytes);
  await page.getByTestId("file-picker").setInputFiles(path);
  const row = page.locator("li.file", { hasText: "expiring.bin" });
  await expect(row).toHaveAttribute("data-state", /done|failed/, { timeout: 150_000 });
  await expect(row, "the upload failed rather than sign again").toHaveAttribute("data-state", "done", {
    timeout: 1,
  });
  await throttleUploads(page, -1);

  // The fault happened: the store itself refused parts as expired, each such part was
  // signed again and stored, and nothing else was refused.
  expect(refusals.length, JSON.stringify(refusals)).toBeGreaterThan(0);
  for (const refusal of refusals) {
    expect([400, 403]).toContain(refusal.status);
    expect(refusal.body).toMatch(/Request has expired|Date is too old/);
    expect(stored).toContain(refusal.part);
  }
  expect([...new Set(stored)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  // The page's download link has expired too by now: read the object with the store's
  // own credentials, at the key the link names.
  const href = await row.locator("a.download").getAttribute("href");
  const { client, bucket } = storeClient("short-urls", SHORT_URLS_PORT);
  const key = decodeURIComponent(new URL(href!).pathname).split("/").slice(2).join("/");
  const object = await client.fetch(`${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
  expect(object.status).toBe(200);
  expect(sha256(Buffer.from(await object.arrayBuffer()))).toBe(sha256(bytes));
  await expect(row).toContainText(`(${crc32cBase64(crc32c(bytes))} in base64)`);
});
