import { test, expect, type Page, type APIRequestContext } from "@playwright/test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { PRIVATE_PASSWORD } from "../playwright.config";
import { chunksFetched, isStorePut, scratchDir, screenshotPath, seriousViolations, sha256 } from "./helpers";

// Upload links on the drop with an operator (the private drop of the config).
const port = Number(process.env.S3DROP_E2E_PORT ?? 3100) + 1;
const PRIVATE = `http://localhost:${port}`;

async function logIn(page: Page) {
  await page.goto(`${PRIVATE}/login`);
  await page.getByLabel("Password").fill(PRIVATE_PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(`${PRIVATE}/`);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

/**
 * Makes a link through the operator's calls (the page's request context carries the
 * session); answers its URL and id.
 */
async function makeLink(request: APIRequestContext, link: Record<string, unknown>): Promise<{ url: string; id: string }> {
  const made = await request.post(`${PRIVATE}/api/links/create`, {
    data: { link: { label: "Made by a test", expires: "1d", ...link } },
  });
  expect(made.status()).toBe(200);
  const created = await made.json();
  return { url: `${PRIVATE}/l/${created.secret}`, id: created.link.id };
}

test("the operator makes a link on the page; its uploader drops a folder, sees only their files, and the record names them", { tag: "@store" }, async ({
  page,
  browser,
}) => {
  const operatorChunks = chunksFetched(page);
  await logIn(page);
  const form = page.getByTestId("link-form");
  await form.getByLabel("Label").fill("Client photos");
  await form.getByLabel("Folder").fill("clients/acme");
  await form.getByLabel("Number of files").fill("10");
  await form.getByLabel("Ask the uploader's name").check();
  await form.getByRole("button", { name: "Create link" }).click();
  const url = await page.getByTestId("new-link-url").inputValue();
  expect(url).toMatch(new RegExp(`^${PRIVATE}/l/[A-Za-z0-9_-]{32}$`));
  await expect(page.getByTestId("link-row").filter({ hasText: "Client photos" })).toContainText("0 files");
  // The operator's rooms came as a chunk of their own, fetched once; this drop does not
  // list the store's files, so their chunk was not fetched.
  expect(operatorChunks).toEqual(["operator_rooms"]);

  // A stranger, in a browser of their own: no session, only the link.
  const stranger = await browser.newContext();
  const them = await stranger.newPage();
  const theirChunks = chunksFetched(them);
  await them.goto(url);
  await expect(them.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(them.getByTestId("link-label")).toHaveText("Client photos");
  await expect(them.getByTestId("link-terms")).toContainText("10 files left");
  await them.getByLabel("Your name").fill("Ada Lovelace");
  await them.getByRole("button", { name: "Continue" }).click();
  const root = join(scratchDir("link-folder"), "shoot");
  mkdirSync(join(root, "day 1"), { recursive: true });
  const digests = new Map<string, string>();
  for (const [path, size] of [["a.jpg", 3000], ["day 1/b.jpg", 5000], ["day 1/c.jpg", 100]] as const) {
    const bytes = randomBytes(size);
    writeFileSync(join(root, path), bytes);
    digests.set(path.split("/").pop()!, sha256(bytes));
  }
  await them.getByTestId("folder-picker").setInputFiles(root);
  for (const name of digests.keys()) {
    await expect(them.locator("li.file", { hasText: name })).toHaveAttribute("data-state", "done");
  }
  // Only their own files: the store's list is never shown on a link's page.
  await expect(them.getByTestId("stored-files")).toHaveCount(0);
  const refused = await them.request.post(`${PRIVATE}/api/files/list`, { data: { after: null, limit: 10 } });
  expect(await refused.text()).toBe("null");
  // Back later in the same browser: what it sent through the link is listed; another
  // browser sees none of it.
  await them.reload();
  await expect(them.locator("html")).toHaveAttribute("data-hydrated", "true");
  const sent = them.getByTestId("sent-before");
  for (const name of digests.keys()) await expect(sent).toContainText(name);
  const elsewhere = await (await browser.newContext()).newPage();
  await elsewhere.goto(url);
  await expect(elsewhere.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(elsewhere.getByTestId("link-label")).toHaveText("Client photos");
  await expect(elsewhere.getByTestId("sent-before")).toHaveCount(0);
  // Someone given a link downloads what a link's answer shows, never the operator's
  // rooms nor the store's list.
  expect(new Set(theirChunks)).toEqual(new Set(["link_answer"]));
  await stranger.close();

  // The operator sees them arrive, with the uploader's name, in the link's folder.
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const row = page.getByTestId("link-row").filter({ hasText: "Client photos" });
  await expect(row).toContainText("3 files");
  await row.getByRole("button", { name: "Show its uploads" }).click();
  const recorded = page.getByTestId("record-row");
  await expect(recorded).toHaveCount(3);
  for (const name of digests.keys()) {
    const entry = recorded.filter({ hasText: name });
    await expect(entry).toHaveAttribute("data-state", "stored");
    await expect(entry).toContainText("Ada Lovelace");
    const href = await entry.locator("a.download").getAttribute("href");
    const served = await page.request.get(href!);
    expect(sha256(await served.body())).toBe(digests.get(name));
  }
  const exported = await page.request.get(`${PRIVATE}/record.csv`);
  expect(exported.status()).toBe(200);
  expect(await exported.text()).toContain("Ada Lovelace");
});

test("a file over a link's limits is refused before a byte is sent, with the reason", { tag: "@store" }, async ({
  page,
  browser,
}) => {
  await logIn(page);
  const { url } = await makeLink(page.request, { limits: { max_file_size: 1000, max_bytes: 1500 } });
  const them = await (await browser.newContext()).newPage();
  const puts: string[] = [];
  them.on("request", (r) => {
    if (isStorePut(r.method(), r.url())) puts.push(r.url());
  });
  await them.goto(url);
  await expect(them.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(them.getByTestId("link-terms")).toContainText("Up to 1000 B per file; 1.5 KiB left");
  const dir = scratchDir("link-limits");
  for (const [name, size] of [["big.bin", 1001], ["first.bin", 800], ["second.bin", 800]] as const) {
    writeFileSync(join(dir, name), randomBytes(size));
  }
  // Over the largest file: the page knows the link's terms and refuses it itself.
  await them.getByTestId("file-picker").setInputFiles(join(dir, "big.bin"));
  const big = them.locator("li.file", { hasText: "big.bin" });
  await expect(big).toHaveAttribute("data-state", "failed");
  await expect(big).toContainText("Not accepted: the file is 1001 bytes; the limit is 1000 bytes");
  // Over what is left: the server refuses it at its start, with the reason.
  await them.getByTestId("file-picker").setInputFiles(join(dir, "first.bin"));
  await expect(them.locator("li.file", { hasText: "first.bin" })).toHaveAttribute("data-state", "done");
  await them.getByTestId("file-picker").setInputFiles(join(dir, "second.bin"));
  const second = them.locator("li.file", { hasText: "second.bin" });
  await expect(second).toHaveAttribute("data-state", "failed");
  await expect(second).toContainText("the file is 800 bytes; this link has 700 bytes left");
  expect(puts.length, "only the first file was sent").toBe(1);
});

// In Firefox too: what a link's answer shows is a WASM chunk the page fetches and links
// in itself.
test("a link's password: a wrong one is said so and may be tried again, the right one opens it", { tag: "@firefox" }, async ({
  page,
  browser,
}) => {
  await logIn(page);
  const { url } = await makeLink(page.request, { label: "Behind a password", password: "open sesame" });
  const them = await (await browser.newContext()).newPage();
  await them.goto(url);
  await expect(them.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(them.getByRole("heading", { name: "Behind a password" })).toBeVisible();
  await expect(them.getByTestId("drop-zone")).toHaveCount(0);
  await them.getByLabel("Password").fill("a guess");
  await them.getByRole("button", { name: "Open" }).click();
  await expect(them.getByRole("alert")).toHaveText("that is not this link's password");
  await them.getByLabel("Password").fill("open sesame");
  await them.getByRole("button", { name: "Open" }).click();
  await expect(them.getByTestId("link-terms")).toContainText("Open until");
  await expect(them.getByTestId("drop-zone")).toBeVisible();
});

test("a revoked or expired link says why, and takes nothing", async ({ page, browser }) => {
  await logIn(page);
  const expiring = await makeLink(page.request, { expires: "3s" });
  const revoked = await makeLink(page.request, {});
  const revoking = await page.request.post(`${PRIVATE}/api/links/revoke`, { data: { id: revoked.id } });
  expect(revoking.status()).toBe(200);
  // The other link's three seconds run out.
  await new Promise((resolve) => setTimeout(resolve, 3500));
  const them = await (await browser.newContext()).newPage();
  for (const [url, why] of [
    [expiring.url, "this upload link has expired"],
    [revoked.url, "this upload link has been revoked"],
    [`${PRIVATE}/l/${"A".repeat(32)}`, "This upload link does not exist"],
  ]) {
    await them.goto(url);
    await expect(them.locator("html")).toHaveAttribute("data-hydrated", "true");
    await expect(them.getByTestId("link-refused")).toContainText(why);
    await expect(them.getByTestId("drop-zone")).toHaveCount(0);
  }
});

test("the operator's page and a link's page: no serious accessibility problems; screenshots", async ({ page, browser }) => {
  await page.setViewportSize({ width: 900, height: 1100 });
  await logIn(page);
  const { url } = await makeLink(page.request, {
    label: "Photos for the Acme brochure",
    message: "Drop the edited photos here. Thank you!",
    folder: "clients/acme",
    limits: { max_bytes: 20 * 1024 ** 3, max_files: 200, max_file_size: 2 * 1024 ** 3, allowed_types: ["image/*", ".pdf"] },
    ask_name: true,
  });
  const them = await (await browser.newContext({ viewport: { width: 900, height: 700 } })).newPage();
  await them.goto(url);
  await expect(them.locator("html")).toHaveAttribute("data-hydrated", "true");
  expect(await seriousViolations(them), "the name asked").toEqual([]);
  await them.getByLabel("Your name").fill("Grace Hopper");
  await them.getByRole("button", { name: "Continue" }).click();
  const dir = scratchDir("link-screens");
  // Not pictures: random bytes named .jpg would show as broken thumbnails.
  const names = ["brochure draft.pdf", "brochure final.pdf", "price list.pdf"];
  for (const [n, name] of names.entries()) {
    writeFileSync(join(dir, name), randomBytes(90_000 * (n + 1)));
  }
  await them.getByTestId("file-picker").setInputFiles(names.map((n) => join(dir, n)));
  for (const name of names) {
    await expect(them.locator("li.file", { hasText: name })).toHaveAttribute("data-state", "done");
  }
  expect(await seriousViolations(them), "a link's page").toEqual([]);
  await them.screenshot({ path: screenshotPath("link.png"), fullPage: true });

  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const row = page.getByTestId("link-row").filter({ hasText: "Photos for the Acme brochure" });
  await row.getByRole("button", { name: "Show its uploads" }).click();
  await expect(page.getByTestId("record-row")).toHaveCount(3);
  await page.getByTestId("links-panel").scrollIntoViewIfNeeded();
  expect(await seriousViolations(page), "the operator's page").toEqual([]);
  await page.screenshot({ path: screenshotPath("operator.png"), fullPage: true });
});
