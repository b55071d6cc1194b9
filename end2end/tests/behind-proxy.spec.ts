import { test, expect } from "@playwright/test";
import { MIB, dropGeneratedFiles, storedDigest } from "./helpers";

// The private deployment behind a shipped proxy file: deploy/Caddyfile
// (scripts/behind-caddy.sh) or deploy/nginx.conf over https with a self-signed
// certificate (scripts/behind-nginx.sh), each started by scripts/test.sh. A person logs
// in through the proxy and uploads a small file and a multipart one, whose parts stream
// through it to the embedded store; the metrics answer only their token.
const PROXY = process.env.S3DROP_PROXY ?? "";
const PAGE = process.env.S3DROP_PROXY_URL;
const PASSWORD = process.env.S3DROP_PROXY_PASSWORD ?? "";
const METRICS_TOKEN = process.env.S3DROP_PROXY_METRICS_TOKEN ?? "";
const HTTP_PAGE = process.env.S3DROP_PROXY_HTTP_URL;

test.describe(`a private drop behind ${PROXY}`, () => {
  test.skip(PAGE === undefined, "needs scripts/behind-caddy.sh or behind-nginx.sh (S3DROP_PROXY_URL)");
  // The nginx deployment's certificate is self-signed.
  test.use({ ignoreHTTPSErrors: true });

  test("logging in and uploading through the proxy, files land intact", async ({ page }) => {
    await page.goto(`${PAGE}/`);
    await expect(page).toHaveURL(`${PAGE}/login`);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(`${PAGE}/`);
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
    const digests = await dropGeneratedFiles(page, [
      { name: `through-${PROXY}.txt`, size: 5000, type: "text/plain" },
      { name: `through-${PROXY}.bin`, size: 20 * MIB, type: "" },
    ]);
    expect(await storedDigest(page, `through-${PROXY}.txt`, PAGE)).toBe(digests[0]);
    expect(await storedDigest(page, `through-${PROXY}.bin`, PAGE)).toBe(digests[1]);
  });

  test("the metrics pass through the proxy only with their token", async ({ request }) => {
    expect((await request.get(`${PAGE}/metrics`)).status()).toBe(401);
    const metrics = await request.get(`${PAGE}/metrics`, {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(metrics.status()).toBe(200);
    expect(await metrics.text()).toContain("s3drop_uploads_started_total");
  });

  test("calls up to s3drop's own limit and the bucket without a slash reach s3drop", async ({
    request,
  }) => {
    // A folder's batch call may be up to 2 MiB (nginx's default limit is 1 MiB): s3drop
    // itself answers, not the proxy's 413.
    const call = await request.post(`${PAGE}/api/policy`, {
      headers: { "content-type": "application/json" },
      data: " ".repeat(1536 * 1024) + "{}",
    });
    expect(call.status()).toBe(200);
    // S3 clients list the bucket as /s3drop: the embedded store answers (an unsigned
    // request is refused in S3's words), not the page's not-found.
    const bucket = await request.get(`${PAGE}/s3drop?list-type=2`);
    expect(bucket.status()).toBe(403);
    expect(await bucket.text()).toContain("<Error>");
  });

});

// Only where the deployment serves port 80 here (nginx's file; Caddy does it itself,
// and its run here has automatic https off).
test.describe(`plain http behind ${PROXY}`, () => {
  if (HTTP_PAGE === undefined) return;

  test("plain http is sent to https, and certificate renewals are served", async ({ request }) => {
    const answer = await request.get(`${HTTP_PAGE}/login?next=1`, { maxRedirects: 0 });
    expect(answer.status()).toBe(301);
    expect(answer.headers()["location"]).toBe("https://localhost/login?next=1");
    const challenge = await request.get(`${HTTP_PAGE}/.well-known/acme-challenge/probe`, {
      maxRedirects: 0,
    });
    expect(challenge.status()).toBe(200);
    expect(await challenge.text()).toBe("acme-probe\n");
  });
});
