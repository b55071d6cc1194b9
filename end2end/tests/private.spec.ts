import { test, expect } from "@playwright/test";
import { PRIVATE_PASSWORD } from "../playwright.config";
import { pickGeneratedFiles, storedDigest } from "./helpers";

const port = Number(process.env.S3DROP_E2E_PORT ?? 3100) + 1;
const PRIVATE = `http://localhost:${port}`;

test("a private drop asks for a login, and refuses server calls without one", { tag: "@firefox" }, async ({ page, request }) => {
  const refused = await request.post(`${PRIVATE}/api/uploads/start`, {
    data: { request: { name: "a.txt", size: 1, content_type: "" } },
  });
  expect(refused.status()).toBe(401);

  await page.goto(`${PRIVATE}/`);
  await expect(page).toHaveURL(`${PRIVATE}/login`);
  await page.getByLabel("Password").fill("a wrong guess");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("not right");

  await page.getByLabel("Password").fill(PRIVATE_PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(`${PRIVATE}/`);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const [digest] = await pickGeneratedFiles(page, [{ name: "private.txt", size: 5000 }]);
  expect(await storedDigest(page, "private.txt")).toBe(digest);
});

test("the rules are shown up front, and a file that breaks them is refused before sending", { tag: "@firefox" }, async ({
  page,
}) => {
  await page.goto(`${PRIVATE}/login`);
  await page.getByLabel("Password").fill(PRIVATE_PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("limits")).toHaveText(
    "Any type of file, up to 1.0 MiB per file, 3 files at a time.",
  );

  const starts: string[] = [];
  const named: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/uploads/")) starts.push(r.url());
    // Every name the page sends the server or the store, in a call's body or a key.
    named.push(decodeURIComponent(r.url()), r.postData() ?? "");
  });
  await pickGeneratedFiles(page, [{ name: "too big.bin", size: 2 * 1024 * 1024 }]);
  const row = page.locator("li.file", { hasText: "too big.bin" });
  await expect(row).toHaveAttribute("data-state", "failed");
  await expect(row).toContainText("Not accepted");
  await expect(row.getByRole("button", { name: /^Retry / })).toHaveCount(0);
  await expect(row).toContainText("the limit is 1048576 bytes");
  expect(starts).toEqual([]);

  // Three files at a time: a fourth is refused before sending, with the reason.
  await pickGeneratedFiles(page, [1, 2, 3, 4].map((n) => ({ name: `small ${n}.txt`, size: 10 })));
  for (const n of [1, 2, 3]) {
    await expect(page.locator("li.file", { hasText: `small ${n}.txt` })).toHaveAttribute("data-state", "done");
  }
  const fourth = page.locator("li.file", { hasText: "small 4.txt" });
  await expect(fourth).toHaveAttribute("data-state", "failed");
  await expect(fourth).toContainText("Not accepted: at most 3 files are taken at a time here");
  // Refused before sending: the fourth was never named to the server nor PUT.
  expect(named.some((text) => text.includes("small 4.txt"))).toBe(false);
  expect(named.some((text) => text.includes("small 3.txt")), "the watch sees names").toBe(true);
});
