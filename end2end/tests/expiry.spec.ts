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
  storeFacts,
  throttleUploads,
} from "./helpers";

// Presigned URLs that really expire in the store (S3, SeaweedFS and the embedded store
// answer 403 "Request has expired", Garage 400 "Date is too old"), with a server whose
// URLs live two seconds and a connection slow enough that signed parts wait longer
// than that for their turn.
test("a URL the store finds expired is signed again and the upload finishes", { tag: "@store" }, async ({ page }) => {
  test.setTimeout(180_000);
  // The page's clock runs ten minutes behind, as a laptop's may: the page believes its
  // URLs are fresh and sends them, and only the store's own answer says they expired.
  await page.clock.install({ time: Date.now() - 10 * 60_000 });
  await openPage(page, `http://localhost:${SHORT_URLS_PORT}/`);
  // 6 MB/s up: the first four 8 MiB parts take about six seconds, so the next two,
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

  const bytes = randomBytes(48 * MIB);
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
    expect(refusal.status).toBe(storeFacts().expired_status);
    expect(refusal.body).toMatch(/Request has expired|Date is too old/);
    expect(stored).toContain(refusal.part);
  }
  expect([...new Set(stored)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  // The page's download link lives as long as any URL of this server (`--url-ttl 2`):
  // it is refused as expired once that has passed. Read the object with the store's
  // own credentials instead, at the key the link names.
  const href = await row.locator("a.download").getAttribute("href");
  expect(new URL(href!).searchParams.get("X-Amz-Expires")).toBe("2");
  await expect
    .poll(async () => {
      const answer = await page.request.get(href!);
      return `${answer.status()} ${await answer.text()}`;
    })
    .toMatch(new RegExp(`^${storeFacts().expired_status} [\\s\\S]*(Request has expired|Date is too old)`));
  const { client, bucket } = storeClient("short-urls", SHORT_URLS_PORT);
  const key = decodeURIComponent(new URL(href!).pathname).split("/").slice(2).join("/");
  const object = await client.fetch(`${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
  expect(object.status).toBe(200);
  expect(sha256(Buffer.from(await object.arrayBuffer()))).toBe(sha256(bytes));
  await expect(row).toContainText(`(${crc32cBase64(crc32c(bytes))} in base64)`);
});

// The page's own check: a URL that waited for its turn until shortly before it expires
// (a quarter of its two seconds here) is signed again rather than sent. The page's clock
// is right this time, so it is the page, not the store, that notices.
test("a URL about to expire is signed again before it is sent, and the upload finishes", async ({ page }) => {
  test.setTimeout(180_000);
  await openPage(page, `http://localhost:${SHORT_URLS_PORT}/`);
  await throttleUploads(page, 6_000_000);
  // Every URL the server signed (by part), and every URL the page sent a PUT to.
  const signed = new Map<string, number>();
  const put = new Map<string, number>();
  page.on("response", async (response) => {
    if (response.url().endsWith("/api/uploads/sign") && response.ok()) {
      for (const part of await response.json()) signed.set(part.url, part.part_number);
    }
    const n = partNumber(response.url());
    if (response.request().method() === "PUT" && n !== undefined) put.set(response.url(), response.status());
  });

  const bytes = randomBytes(48 * MIB);
  const path = join(scratchDir("about-to-expire"), "about-to-expire.bin");
  writeFileSync(path, bytes);
  await page.getByTestId("file-picker").setInputFiles(path);
  const row = page.locator("li.file", { hasText: "about-to-expire.bin" });
  await expect(row).toHaveAttribute("data-state", /done|failed/, { timeout: 150_000 });
  await expect(row, "the upload failed rather than sign again").toHaveAttribute("data-state", "done", {
    timeout: 1,
  });
  await throttleUploads(page, -1);

  // Some URLs were never sent: their parts were signed again, and a later URL stored them.
  const unsent = [...signed].filter(([url]) => !put.has(url)).map(([, part]) => part);
  expect(unsent.length, "URLs signed again instead of sent").toBeGreaterThan(0);
  const storedParts = [...put].filter(([, status]) => status === 200).map(([url]) => signed.get(url));
  for (const part of unsent) expect(storedParts).toContain(part);
  expect([...new Set(storedParts)].sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6]);
  const { client, bucket } = storeClient("short-urls", SHORT_URLS_PORT);
  const href = await row.locator("a.download").getAttribute("href");
  const key = decodeURIComponent(new URL(href!).pathname).split("/").slice(2).join("/");
  const object = await client.fetch(`${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`);
  expect(sha256(Buffer.from(await object.arrayBuffer()))).toBe(sha256(bytes));
});
