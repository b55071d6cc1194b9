import { test, expect } from "@playwright/test";
import { MIB, dropGeneratedFiles, storedDigest } from "./helpers";

// The README's private deployment behind the shipped deploy/Caddyfile
// (scripts/behind-caddy.sh, started by scripts/test.sh): a person logs in through
// Caddy and uploads a small file and a multipart one, whose parts stream through
// Caddy to the embedded store; the metrics answer only their token.
const PAGE = process.env.S3DROP_CADDY_URL;
const PASSWORD = process.env.S3DROP_CADDY_PASSWORD ?? "";
const METRICS_TOKEN = process.env.S3DROP_CADDY_METRICS_TOKEN ?? "";

test.describe("a private drop behind Caddy", () => {
  test.skip(PAGE === undefined, "needs scripts/behind-caddy.sh (S3DROP_CADDY_URL)");

  test("logging in and uploading through the proxy, files land intact", async ({ page }) => {
    await page.goto(`${PAGE}/`);
    await expect(page).toHaveURL(`${PAGE}/login`);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(`${PAGE}/`);
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
    const digests = await dropGeneratedFiles(page, [
      { name: "through-caddy.txt", size: 5000, type: "text/plain" },
      { name: "through-caddy.bin", size: 20 * MIB, type: "" },
    ]);
    expect(await storedDigest(page, "through-caddy.txt", PAGE)).toBe(digests[0]);
    expect(await storedDigest(page, "through-caddy.bin", PAGE)).toBe(digests[1]);
  });

  test("the metrics pass through the proxy only with their token", async ({ request }) => {
    expect((await request.get(`${PAGE}/metrics`)).status()).toBe(401);
    const metrics = await request.get(`${PAGE}/metrics`, {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(metrics.status()).toBe(200);
    expect(await metrics.text()).toContain("s3drop_uploads_started_total");
  });
});
