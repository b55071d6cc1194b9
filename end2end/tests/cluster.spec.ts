import { test, expect, type Page } from "@playwright/test";
import { AwsClient } from "aws4fetch";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  MIB,
  dropGeneratedFiles,
  fileRow,
  openPage,
  partNumber,
  sha256,
  storedDigest,
  throttleUploads,
} from "./helpers";

// A replicated deployment under fault (scripts/cluster.sh, started by scripts/test.sh):
// three Garage nodes behind nginx, two s3drop servers behind nginx sharing a PostgreSQL
// database. A node or a server is killed while parts are in flight; the upload still
// finishes, intact.
const dir = process.env.S3DROP_CLUSTER_DIR;
const PAGE = "http://localhost:3120/";
const NODE_PORTS = [3910, 3920, 3930];
/** The store's load balancer, where presigned URLs point. */
const STORE = "http://127.0.0.1:3940";
/** The operator's password on both servers (the home page's drop stays open). */
const OPERATOR_PASSWORD = "cluster-operator-password";
/** 96 MiB in 8 MiB parts. */
const SIZE = 96 * MIB;
const PARTS = 12;

test.describe("a replicated deployment", () => {
  test.skip(dir === undefined, "needs the cluster from scripts/cluster.sh (S3DROP_CLUSTER_DIR)");

  const cluster = (...args: string[]) => execFileSync("../scripts/cluster.sh", [args[0], dir!, ...args.slice(1)]);

  /** Watches part PUTs: answers the failures seen so far (resets, 5xx) by reference. */
  function watchParts(page: Page) {
    const seen = { stored: 0, failed: 0 };
    page.on("requestfailed", (request) => {
      if (partNumber(request.url()) !== undefined) seen.failed++;
    });
    page.on("response", (response) => {
      if (partNumber(response.url()) === undefined || response.request().method() !== "PUT") return;
      if (response.status() === 200) seen.stored++;
      else seen.failed++;
    });
    return seen;
  }

  /** Asserts that the kill comes while `name` is uploading: some parts stored, not all
   * (the upload is throttled to 16 MB/s, about six seconds for the file, to leave time). */
  async function midUpload(page: Page, name: string, parts: { stored: number }) {
    await expect.poll(() => parts.stored).toBeGreaterThan(0);
    expect(parts.stored, "parts stored when the kill came").toBeLessThan(PARTS);
    await expect(fileRow(page, name)).toHaveAttribute("data-state", "uploading");
  }

  test("any server answers any call of an upload: nginx spreads one upload's calls over both", async ({ page }) => {
    // Two servers that share a store and a secret are one service: the upload token
    // carries everything. nginx (round robin) sends one upload's calls to both.
    await openPage(page, PAGE);
    const served: string[] = [];
    page.on("response", (response) => {
      if (!new URL(response.url()).pathname.startsWith("/api/uploads/")) return;
      const by = (response.headers()["x-served-by"] ?? "").split(", ").pop() ?? "";
      served.push(`${new URL(response.url()).pathname.slice("/api/uploads/".length)}@${by}`);
    });
    const [digest] = await dropGeneratedFiles(page, [{ name: "spread.bin", size: 40 * MIB, type: "" }]);
    expect(await storedDigest(page, "spread.bin", STORE)).toBe(digest);
    const servers = new Set(served.map((call) => call.split("@")[1]));
    expect([...servers].sort(), served.join(" ")).toEqual(["127.0.0.1:3121", "127.0.0.1:3122"]);
    expect(served.some((call) => call.startsWith("complete")), served.join(" ")).toBe(true);
  });

  test("a store node killed mid-upload: the upload finishes intact, readable through every node", async ({ page }) => {
    await openPage(page, PAGE);
    const parts = watchParts(page);
    const errorLog = join(dir!, "nginx", "error.log");
    await throttleUploads(page, 16_000_000);
    const [digest] = await dropGeneratedFiles(page, [{ name: "replicated.bin", size: SIZE, type: "" }]);
    await midUpload(page, "replicated.bin", parts);
    const logged = statSync(errorLog).size;
    cluster("kill-node", "2");
    try {
      expect(await storedDigest(page, "replicated.bin", STORE)).toBe(digest);
    } finally {
      cluster("start-node", "2");
    }
    // The fault reached someone: the page saw parts fail and sent them again, or nginx
    // found the node gone and passed the request to another (its error log says so).
    const since = readFileSync(errorLog, "utf8").slice(logged);
    const nginxMissedIt = since.includes(`127.0.0.1:${NODE_PORTS[1]}`);
    console.log(`parts stored: ${parts.stored}, failed and sent again: ${parts.failed}, nginx retried: ${nginxMissedIt}`);
    expect(parts.failed > 0 || nginxMissedIt, since).toBe(true);

    // With the node back, each node serves the same bytes.
    const href = await fileRow(page, "replicated.bin").locator("a.download").getAttribute("href");
    const path = new URL(href!).pathname;
    const env = Object.fromEntries(
      readFileSync(join(dir!, "cluster.env"), "utf8")
        .trim()
        .split("\n")
        .map((line) => line.split("=", 2) as [string, string]),
    );
    const s3 = new AwsClient({
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      region: env.AWS_REGION,
      service: "s3",
    });
    for (const port of NODE_PORTS) {
      await expect
        .poll(async () => {
          const response = await s3.fetch(`http://127.0.0.1:${port}${path}`);
          const body = Buffer.from(await response.arrayBuffer());
          return response.ok ? sha256(body) : `HTTP ${response.status}: ${body.toString().slice(0, 300)}`;
        }, { message: `node on port ${port}`, timeout: 60_000 })
        .toBe(digest);
    }
  });

  test("the s3drop server that started an upload killed mid-upload: the other one finishes it", async ({ page }) => {
    await openPage(page, PAGE);
    const parts = watchParts(page);
    /** The server that answered (nginx lists each it tried; the last one answered). */
    const servedBy = (response: { headers(): Record<string, string> }) =>
      (response.headers()["x-served-by"] ?? "").split(", ").pop();
    const started = page.waitForResponse((r) => /\/api\/uploads\/start(-batch)?$/.test(r.url()));
    const completed = page.waitForResponse((r) => r.url().endsWith("/api/uploads/complete"));
    await throttleUploads(page, 16_000_000);
    const [digest] = await dropGeneratedFiles(page, [{ name: "failover.bin", size: SIZE, type: "" }]);
    // Kill the one that started it, so the other must take over whatever nginx chooses.
    const starter = servedBy(await started);
    const n = ["127.0.0.1:3121", "127.0.0.1:3122"].indexOf(starter ?? "") + 1;
    expect(n, `started by ${starter}`).toBeGreaterThan(0);
    await midUpload(page, "failover.bin", parts);
    cluster("kill-app", String(n));
    try {
      expect(await storedDigest(page, "failover.bin", STORE)).toBe(digest);
      expect(servedBy(await completed), "the survivor completed it").toBe(`127.0.0.1:${3120 + (3 - n)}`);
    } finally {
      cluster("start-app", String(n));
    }
  });

  test("a link made through one server is used through the balancer while that server is killed: the other finishes and records it", async ({
    page,
    browser,
  }) => {
    // The operator on server 1 alone: the link is made there, in the shared database.
    const operator = page.request;
    const login = await operator.post("http://localhost:3121/login", { form: { password: OPERATOR_PASSWORD } });
    expect(login.ok()).toBe(true);
    const made = await operator.post("http://localhost:3121/api/links/create", {
      data: { link: { label: "Across the cluster", expires: "1h", ask_name: true } },
    });
    expect(made.status()).toBe(200);
    const { secret, link } = await made.json();

    // The uploader, through the balancer; server 1 is killed mid-upload.
    const them = await (await browser.newContext()).newPage();
    const parts = watchParts(them);
    await them.goto(`${PAGE}l/${secret}`);
    await expect(them.locator("html")).toHaveAttribute("data-hydrated", "true");
    await them.getByLabel("Your name").fill("Katherine Johnson");
    await them.getByRole("button", { name: "Continue" }).click();
    await throttleUploads(them, 16_000_000);
    const [digest] = await dropGeneratedFiles(them, [{ name: "linked.bin", size: SIZE, type: "" }]);
    await midUpload(them, "linked.bin", parts);
    cluster("kill-app", "1");
    try {
      expect(await storedDigest(them, "linked.bin", STORE)).toBe(digest);
      // Server 2 records what came through the link made on server 1.
      const recorded = await operator.post("http://localhost:3122/api/record/list", {
        data: { filter: { link_id: link.id }, after: null, limit: 10 },
      });
      expect(recorded.status()).toBe(200);
      const { uploads } = await recorded.json();
      expect(uploads.map((u: { name: string; state: string; uploader: string }) => [u.name, u.state, u.uploader])).toEqual([
        ["linked.bin", "stored", "Katherine Johnson"],
      ]);
    } finally {
      cluster("start-app", "1");
    }
  });
});
