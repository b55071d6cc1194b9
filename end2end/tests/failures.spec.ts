import { test, expect } from "@playwright/test";
import { MIB, dropGeneratedFiles, fileRow, openPage, partNumber, storedDigest } from "./helpers";

test("failed part PUTs are retried and the upload still completes", async ({ page }) => {
  await openPage(page);
  // Part 2 first meets a 503, part 3 has its connection reset twice, part 4's signature
  // is refused once (as when it expired) and part 5 meets a 500.
  const planned = new Map<number, string[]>([
    [2, ["503"]],
    [3, ["reset", "reset"]],
    [4, ["403"]],
    [5, ["500"]],
  ]);
  let signCalls = 0;
  page.on("request", (request) => {
    if (request.url().endsWith("/api/uploads/sign")) signCalls++;
  });
  const attempts = new Map<number, number>();
  page.on("request", (request) => {
    const n = partNumber(request.url());
    if (request.method() === "PUT" && n !== undefined) {
      attempts.set(n, (attempts.get(n) ?? 0) + 1);
    }
  });
  await page.route(
    (url) => {
      const n = partNumber(url);
      return n !== undefined && (planned.get(n)?.length ?? 0) > 0;
    },
    async (route) => {
      const failure = planned.get(partNumber(route.request().url())!)!.shift();
      if (failure === "reset") {
        await route.abort("connectionreset");
      } else {
        await route.fulfill({ status: Number(failure), body: "injected failure" });
      }
    },
  );
  const [digest] = await dropGeneratedFiles(page, [{ name: "flaky.bin", size: 40 * MIB, type: "" }]);
  expect(await storedDigest(page, "flaky.bin")).toBe(digest);
  expect([1, 2, 3, 4, 5].map((n) => attempts.get(n))).toEqual([1, 2, 3, 2, 2]);
  // The refused signature was replaced by a fresh one.
  expect(signCalls).toBeGreaterThanOrEqual(2);
});

test("a part the store refuses fails the upload with the reason and aborts it; Retry starts it again", async ({
  page,
}) => {
  await openPage(page);
  await page.route(
    (url) => partNumber(url) !== undefined,
    (route) => route.fulfill({ status: 400, body: "bad request" }),
  );
  const aborted = page.waitForRequest((request) => request.url().endsWith("/api/uploads/abort"));
  await dropGeneratedFiles(page, [{ name: "refused.bin", size: 12 * MIB, type: "" }]);
  const row = fileRow(page, "refused.bin");
  await expect(row).toHaveAttribute("data-state", "failed");
  await expect(row).toContainText("HTTP 400");
  await aborted;

  // Once the store accepts parts again, Retry starts the file afresh, and it lands.
  await page.unrouteAll();
  await row.getByRole("button", { name: /^Retry / }).click();
  await expect(row).toHaveAttribute("data-state", "done");
  await expect(row).toContainText("Uploaded");

  // Finished rows can be cleared away.
  await page.getByRole("button", { name: "Clear finished" }).click();
  await expect(row).toHaveCount(0);
});

test("a part corrupted on the way is refused by its checksum, sent again, and lands intact", async ({
  page,
}) => {
  await openPage(page);
  const checksums = new Map<number, string>();
  page.on("request", (request) => {
    const n = partNumber(request.url());
    const crc = request.headers()["x-amz-checksum-crc32c"];
    if (request.method() === "PUT" && n !== undefined && crc) checksums.set(n, crc);
  });
  let corrupted = 0;
  const refused: number[] = [];
  page.on("response", (response) => {
    if (partNumber(response.url()) === 2 && response.status() === 400) refused.push(400);
  });
  await page.route(
    (url) => partNumber(url) === 2 && corrupted === 0,
    async (route) => {
      corrupted++;
      const body = Buffer.from(route.request().postDataBuffer()!);
      body[1000] ^= 0xff;
      await route.continue({ postData: body });
    },
  );
  const [digest] = await dropGeneratedFiles(page, [{ name: "bitflip.bin", size: 20 * MIB, type: "" }]);
  expect(await storedDigest(page, "bitflip.bin")).toBe(digest);
  expect(corrupted).toBe(1);
  expect(refused).toEqual([400]);
  // Every part went with its CRC32C, signed into its URL.
  expect([...checksums.keys()].sort()).toEqual([1, 2, 3]);
});
