import { expect, test, type Page } from "@playwright/test";
import { AwsClient } from "aws4fetch";
import { Crc32c } from "@aws-crypto/crc32c";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { SHARED_SECRET, external } from "../playwright.config";

export const MIB = 1024 * 1024;

/**
 * A folder for the current test's generated files, inside its output folder: Playwright
 * removes it when the test passes (`preserveOutput`), so runs leave no files behind.
 */
export function scratchDir(name: string): string {
  const dir = test.info().outputPath(name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The CRC32C of `bytes`, by AWS's own JavaScript implementation (not s3drop's). */
export function crc32c(bytes: Buffer): number {
  return new Crc32c().update(bytes).digest();
}

/** A CRC32C as S3 writes it: the big-endian bytes in base64. */
export function crc32cBase64(crc: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0);
  return bytes.toString("base64");
}

/**
 * Opens the page and waits until it has hydrated (the WASM bundle has taken over),
 * failing on any Content Security Policy violation.
 */
export async function openPage(page: Page, url = "/") {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) violations.push(message.text());
  });
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "s3drop" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true", { timeout: 15_000 });
  expect(violations).toEqual([]);
}

/**
 * Drops files on the drop zone as a person would: a `drop` event whose DataTransfer
 * holds the files. The bytes are made in the page (random, `size` long); answers each
 * file's SHA-256, computed in the page before the drop.
 */
export async function dropGeneratedFiles(
  page: Page,
  files: { name: string; size: number; type: string }[],
): Promise<string[]> {
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
    for (const type of ["dragenter", "dragover", "drop"]) {
      zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    }
    return digests;
  }, files);
}

/**
 * Picks files as a person would with the page's file picker: random bytes of `size`,
 * written to the test's scratch folder first; answers each file's SHA-256. (Unlike a
 * drop, this runs no script in the page, which Firefox's strict CSP would refuse to
 * Playwright's WebDriver BiDi client.)
 */
export async function pickGeneratedFiles(page: Page, files: { name: string; size: number }[]): Promise<string[]> {
  const dir = scratchDir("picked");
  const digests = files.map(({ name, size }) => {
    const bytes = randomBytes(size);
    writeFileSync(join(dir, name), bytes);
    return sha256(bytes);
  });
  await page.getByTestId("file-picker").setInputFiles(files.map(({ name }) => join(dir, name)));
  return digests;
}

/** The row of the queue that shows `name`. */
export function fileRow(page: Page, name: string) {
  return page.locator("li.file", { hasText: name });
}

/**
 * Waits for a file's row to be done and answers the SHA-256 of what the store serves,
 * checking the download comes from `store`: the external store the environment names,
 * or the embedded store on the page's own origin.
 */
export async function storedDigest(
  page: Page,
  name: string,
  store = process.env.AWS_ENDPOINT_URL ?? page.url(),
): Promise<string> {
  const row = fileRow(page, name);
  await expect(row).toHaveAttribute("data-state", "done");
  const href = await row.locator("a.download").getAttribute("href");
  expect(href).toBeTruthy();
  expect(new URL(href!).origin).toBe(new URL(store).origin);
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  return sha256(await response.body());
}

/** The part number of a presigned UploadPart URL, or `undefined` for other requests. */
export function partNumber(url: string | URL): number | undefined {
  const value = new URL(url).searchParams.get("partNumber");
  return value === null ? undefined : Number(value);
}

/**
 * A client of the store a drop uses, with the store's own credentials: the external
 * store the environment names (`scripts/stores.sh` writes its settings), or else the
 * drop's embedded store, with the credentials its server generated in its data
 * directory (`dir`, under the run's data folder), on the drop's own origin (`port`).
 */
export function storeClient(dir = "open", port = Number(process.env.S3DROP_E2E_PORT ?? 3100)) {
  const env = process.env;
  const secrets = external
    ? undefined
    : JSON.parse(readFileSync(join(env.S3DROP_E2E_DATA_DIR!, dir, "secrets.json"), "utf8"));
  const client = new AwsClient({
    accessKeyId: external ? env.AWS_ACCESS_KEY_ID! : secrets.store_access_key,
    secretAccessKey: external ? env.AWS_SECRET_ACCESS_KEY! : secrets.store_secret_key,
    region: external ? env.AWS_REGION : "us-east-1",
    service: "s3",
  });
  const bucket = external ? `${env.AWS_ENDPOINT_URL}/${env.S3DROP_BUCKET}` : `http://localhost:${port}/s3drop`;
  return { client, bucket };
}

/** What the run's store does: `tests/store-facts.json`, which the Rust tests read too. */
export interface StoreFacts {
  /** `If-None-Match: *` onto an object that exists is refused with 412. */
  if_none_match: boolean;
  /** The status a presigned URL past its expiry is answered with. */
  expired_status: number;
}

/**
 * The facts of the run's store (`S3DROP_TEST_STORE`, which `scripts/test.sh` sets; the
 * embedded store when unset), asserted as fact: a store that changes fails the tests.
 */
export function storeFacts(): StoreFacts {
  const store = process.env.S3DROP_TEST_STORE ?? "embedded";
  expect(store === "embedded", `S3DROP_TEST_STORE=${store} with S3DROP_BUCKET set or not`).toBe(!external);
  const all = JSON.parse(readFileSync(join(__dirname, "..", "..", "tests", "store-facts.json"), "utf8"));
  expect(all[store], `tests/store-facts.json on ${store}`).toBeDefined();
  return all[store];
}

/**
 * How many multipart uploads the store holds under the open drop's key prefix whose
 * file name starts with `name` (the run shares the store: a test counts its own files),
 * asked through ListMultipartUploads.
 */
export async function multipartUploadsInStore(name: string): Promise<number> {
  const { client, bucket } = storeClient();
  const prefix = encodeURIComponent(process.env.S3DROP_KEY_PREFIX ?? "uploads/");
  const response = await client.fetch(`${bucket}?uploads=&prefix=${prefix}`);
  const body = await response.text();
  expect(response.status, body).toBe(200);
  const keys = [...body.matchAll(/<Upload>[\s\S]*?<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
  return keys.filter((key) => key.split("/").pop()!.startsWith(name)).length;
}

/**
 * What must never reach a browser of the open drop, by name: the store's secret key
 * (the external store's, or the one the embedded store generated) and the key that
 * signs upload tokens (given with `--secret`, or generated).
 */
export function serverSecrets(dir = "open"): Map<string, string> {
  const env = process.env;
  if (external) {
    return new Map([
      ["the store's secret key", env.AWS_SECRET_ACCESS_KEY!],
      ["the token secret", SHARED_SECRET],
    ]);
  }
  const secrets = JSON.parse(readFileSync(join(env.S3DROP_E2E_DATA_DIR!, dir, "secrets.json"), "utf8"));
  return new Map([
    ["the store's secret key", secrets.store_secret_key],
    ["the token secret", secrets.token_key],
  ]);
}

/**
 * Takes the File System Access API's pickers away from the page's documents, as in
 * Firefox and Safari: the page's pickers are then its `<input>`s, which Playwright's
 * `filechooser` drives (it cannot drive `showOpenFilePicker`, microsoft/playwright#8850).
 */
export async function withoutFileSystemAccess(page: Page) {
  await page.addInitScript(() => {
    for (let o: object | null = window; o !== null; o = Object.getPrototypeOf(o)) {
      for (const name of ["showOpenFilePicker", "showDirectoryPicker"]) Reflect.deleteProperty(o, name);
    }
  });
}

/**
 * How many records an object store of the page's IndexedDB holds. (Each helper closes
 * its connection at once: an open one would hold up the page's own upgrade.)
 */
export async function recordsIn(page: Page, store: "kept" | "uploads" | "files"): Promise<number> {
  return page.evaluate(
    (store) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open("s3drop");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains(store)) {
            db.close();
            return resolve(0);
          }
          const count = db.transaction(store).objectStore(store).count();
          count.onsuccess = () => {
            resolve(count.result);
            db.close();
          };
          count.onerror = () => reject(count.error);
        };
      }),
    store,
  );
}

/** The parts sent of the saved multipart upload of `name`, as the page recorded them. */
export async function savedParts(page: Page, name: string): Promise<number> {
  return page.evaluate(
    (name) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open("s3drop");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          if (!open.result.objectStoreNames.contains("uploads")) {
            open.result.close();
            return resolve(0);
          }
          const all = open.result.transaction("uploads").objectStore("uploads").getAll();
          all.onsuccess = () => {
            const record = all.result.map((r) => JSON.parse(r)).find((r) => r.name === name);
            resolve(record?.sent.length ?? 0);
            open.result.close();
          };
          all.onerror = () => reject(all.error);
        };
      }),
    name,
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The names of the WASM chunks `page` fetches from now on, in order: the parts of the
 * page split out with `#[wasm_split]` (`/pkg/split_{name}.wasm`), fetched only where
 * they are shown.
 */
export function chunksFetched(page: Page): string[] {
  const fetched: string[] = [];
  page.on("request", (r) => {
    const chunk = /^\/pkg\/split_(\w+)\.wasm$/.exec(new URL(r.url()).pathname);
    if (chunk) fetched.push(chunk[1]);
  });
  return fetched;
}

/** Whether a request is a PUT of a part (or of a whole small file) to the store. */
export function isStorePut(method: string, url: string): boolean {
  return method === "PUT" && new URL(url).searchParams.has("X-Amz-Signature");
}

/**
 * Limits the page's upload to `bytesPerSecond` (Chromium's network emulation, through
 * CDP; `-1` lifts the limit): real slowness, where a routed delay would be made up.
 */
export async function throttleUploads(page: Page, bytesPerSecond: number) {
  const network = await page.context().newCDPSession(page);
  await network.send("Network.enable");
  await network.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

/** Serious and critical accessibility violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

/** Where a screenshot goes: the README's pictures with UPDATE_SCREENSHOTS=1, otherwise
 * the test's own output folder (a run leaves the checkout as it found it). */
export function screenshotPath(name: string): string {
  return process.env.UPDATE_SCREENSHOTS === "1"
    ? `../docs/screenshots/${name}`
    : test.info().outputPath(name);
}
