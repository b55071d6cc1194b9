import { test, expect } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  MIB,
  crc32c,
  crc32cBase64,
  dropGeneratedFiles,
  fileRow,
  openPage,
  partNumber,
  scratchDir,
  serverSecrets,
  sha256,
  storeFacts,
  storedDigest,
} from "./helpers";

test("a dropped small file lands in the store intact", { tag: "@store" }, async ({ page }) => {
  await openPage(page);
  const [digest] = await dropGeneratedFiles(page, [{ name: "small note.txt", size: 1234, type: "text/plain" }]);
  expect(await storedDigest(page, "small note.txt")).toBe(digest);
});

test("a 40 MiB file goes up in parts, lands intact and shows the CRC32C of the whole file", { tag: ["@store", "@firefox"] }, async ({ page }) => {
  await openPage(page);
  const parts: number[] = [];
  page.on("request", (request) => {
    const n = partNumber(request.url());
    if (request.method() === "PUT" && n !== undefined) {
      parts.push(n);
    }
  });
  const bytes = randomBytes(40 * MIB);
  const path = join(scratchDir("big"), "big.bin");
  writeFileSync(path, bytes);
  await page.getByTestId("file-picker").setInputFiles(path);
  expect(await storedDigest(page, "big.bin")).toBe(sha256(bytes));
  // The object records the CRC32C of the whole file (not S3's composite of the parts'),
  // the one any tool computes from the file on disk, and the page shows it.
  const whole = crc32c(bytes);
  await expect(page.locator("li.file", { hasText: "big.bin" })).toContainText(
    `CRC32C ${whole.toString(16).padStart(8, "0")} (${crc32cBase64(whole)} in base64)`,
  );
  // 40 MiB in 8 MiB parts: five parts, each sent straight to the store.
  expect([...new Set(parts)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
});

test("a finished small file cannot be replaced or removed with its upload's token", { tag: "@store" }, async ({ page }) => {
  await openPage(page);
  let put: { url: string; headers: Record<string, string> } | undefined;
  let token: string | undefined;
  page.on("request", (request) => {
    if (request.method() === "PUT" && request.url().includes("final.txt")) {
      // What a script holding the page's data would have: the URL and its signed headers.
      const signed = Object.entries(request.headers()).filter(
        ([name]) => name === "content-type" || name === "if-none-match" || name.startsWith("x-amz-"),
      );
      put = { url: request.url(), headers: Object.fromEntries(signed) };
    }
    if (request.url().endsWith("/api/uploads/complete-batch")) {
      token = request.postDataJSON().uploads[0].token;
    }
  });
  const [digest] = await dropGeneratedFiles(page, [{ name: "final.txt", size: 5000, type: "text/plain" }]);
  expect(await storedDigest(page, "final.txt")).toBe(digest);
  expect(put?.headers["if-none-match"], "the PUT only creates its key").toBe("*");
  expect(token).toBeTruthy();

  // The page's own PUT, sent again after the upload finished: a store with conditional
  // writes refuses it (412); Garage takes it, the limit docs/security.md names.
  const href = await fileRow(page, "final.txt").locator("a.download").getAttribute("href");
  const stored = await (await page.request.get(href!)).body();
  const again = await page.request.put(put!.url, { headers: put!.headers, data: stored });
  expect(again.status(), await again.text()).toBe(storeFacts().if_none_match ? 412 : 200);
  // The token signs no new PUT and removes nothing.
  for (const [call, body] of [
    ["sign", { token, parts: [{ part_number: 1 }] }],
    ["abort", { token }],
  ] as const) {
    const answer = await page.request.post(`/api/uploads/${call}`, { data: body });
    expect(answer.status(), call).toBe(409);
    expect(await answer.text(), call).toContain("Finished");
  }
  expect(await storedDigest(page, "final.txt")).toBe(digest);
});

test("several picked files upload side by side", { tag: ["@store", "@firefox"] }, async ({ page }) => {
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

test("the store's credentials and the token secret never reach the browser", { tag: "@store" }, async ({ page }) => {
  const secrets = serverSecrets();
  for (const [name, secret] of secrets) expect(secret.length, name).toBeGreaterThanOrEqual(16);
  // Every request the page makes and every answer it gets: URLs, headers and bodies
  // (the HTML, the script, the WASM bundle, each server call, each store answer).
  const leaks: string[] = [];
  const looked: Promise<void>[] = [];
  const seen = new Set<string>();
  const look = (where: string, what: Buffer | string) => {
    for (const [name, secret] of secrets) if (Buffer.from(what).includes(secret)) leaks.push(`${name} in ${where}`);
  };
  page.on("request", (r) => look(`the request ${r.url()}`, `${r.url()} ${JSON.stringify(r.headers())} ${r.postData() ?? ""}`));
  page.on("response", (r) => {
    seen.add(`${r.request().method()} ${new URL(r.url()).pathname}`);
    looked.push(
      (async () => {
        look(`the headers of ${r.url()}`, JSON.stringify(await r.allHeaders()));
        look(`the answer to ${r.url()}`, await r.body().catch(() => Buffer.alloc(0)));
      })(),
    );
  });
  await openPage(page);
  await dropGeneratedFiles(page, [
    { name: "no-secrets.txt", size: 4096, type: "text/plain" },
    { name: "no-secrets.bin", size: 24 * MIB, type: "" },
  ]);
  await storedDigest(page, "no-secrets.txt");
  await storedDigest(page, "no-secrets.bin");
  // What the page keeps: cookies, local storage, IndexedDB's records.
  const kept = await page.evaluate(async () => {
    const records: unknown[] = [];
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((ok, no) => {
        const open = indexedDB.open(name!);
        open.onsuccess = () => ok(open.result);
        open.onerror = () => no(open.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const all = db.transaction(store).objectStore(store).getAll();
        records.push(await new Promise((ok) => (all.onsuccess = () => ok(all.result))));
      }
      db.close();
    }
    return JSON.stringify({ cookies: document.cookie, local: { ...localStorage }, records });
  });
  look("what the page keeps", kept);
  await Promise.all(looked);
  // The look covered the page, its bundle, the server calls and the store's answers.
  const all = [...seen];
  expect(all).toContain("GET /pkg/s3drop.wasm");
  expect(all.filter((r) => r.startsWith("POST /api/uploads/")).length, all.join("\n")).toBeGreaterThanOrEqual(2);
  expect(all.filter((r) => r.startsWith("PUT ") && r.includes("no-secrets")).length, all.join("\n")).toBe(2);
  expect(leaks).toEqual([]);
});
