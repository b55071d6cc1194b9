import { test, expect } from "@playwright/test";
import { TWIN_PORT } from "../playwright.config";
import { MIB, dropGeneratedFiles, openPage, partNumber, storedDigest } from "./helpers";

// Two s3drop servers that share a store and a secret are one service: the upload token
// carries everything, so any instance can serve any call of an upload.
test("an upload started on one server is signed through both and completed on the other", async ({ page }) => {
  test.skip(process.env.S3DROP_BUCKET === undefined, "needs an external store that two servers share");
  const twin = `http://localhost:${TWIN_PORT}`;
  const calls: string[] = [];
  // The page talks to its own origin; a load balancer's choices are played here: the
  // start and the first signing go to the first server, every later call to the twin.
  page.on("request", (request) => {
    if (request.url().endsWith("/api/uploads/start-batch")) calls.push("start@first");
  });
  await page.route("**/api/uploads/sign", async (route) => {
    const first = !calls.some((c) => c.startsWith("sign"));
    calls.push(first ? "sign@first" : "sign@twin");
    const url = first ? route.request().url() : `${twin}/api/uploads/sign`;
    await route.fulfill({ response: await route.fetch({ url }) });
  });
  await page.route("**/api/uploads/complete", async (route) => {
    calls.push("complete@twin");
    await route.fulfill({ response: await route.fetch({ url: `${twin}/api/uploads/complete` }) });
  });
  // Part 2's first URL is refused as expired, so the page signs it again (the twin).
  let refused = false;
  await page.route(
    (url) => partNumber(url) === 2 && !refused,
    async (route) => {
      refused = true;
      await route.fulfill({
        status: 403,
        headers: { "access-control-allow-origin": "*" },
        body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
      });
    },
  );

  await openPage(page);
  const [digest] = await dropGeneratedFiles(page, [{ name: "shared.bin", size: 40 * MIB, type: "" }]);
  expect(await storedDigest(page, "shared.bin")).toBe(digest);
  expect(calls).toEqual(["start@first", "sign@first", "sign@twin", "complete@twin"]);
});
