import { test, expect } from "@playwright/test";
import { MIB, dropGeneratedFiles, fileRow, openPage, partNumber, storedDigest } from "./helpers";

test("failed part PUTs are retried and the upload still completes", async ({ page }) => {
  await openPage(page);
  // Part 2 first meets a 503; part 3 has its connection reset twice.
  const planned = new Map<number, string[]>([
    [2, ["503"]],
    [3, ["reset", "reset"]],
  ]);
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
      if (failure === "503") {
        await route.fulfill({ status: 503, body: "unavailable" });
      } else {
        await route.abort("connectionreset");
      }
    },
  );
  const [digest] = await dropGeneratedFiles(page, [{ name: "flaky.bin", size: 20 * MIB, type: "" }]);
  expect(await storedDigest(page, "flaky.bin")).toBe(digest);
  expect(attempts.get(1)).toBe(1);
  expect(attempts.get(2)).toBe(2);
  expect(attempts.get(3)).toBe(3);
});

test("a part the store refuses fails the upload with the reason, and aborts it", async ({ page }) => {
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
});
