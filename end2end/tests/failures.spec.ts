import { expect } from "@playwright/test";
import {
  MIB,
  dropGeneratedFiles,
  fileRow,
  multipartUploadsInStore,
  openPage,
  pickGeneratedFiles,
  storeFacts,
  storedDigest,
} from "./helpers";
import { outcomes, part, putOf, test } from "./relayed-drop";

// What the page does with each kind of failed request, each made for real by a relay
// (`relay.ts`) in front of the run's store or the server: answers a store gives (500,
// 403 expired, 400), bytes changed on the way, and answers lost after the request
// took effect.

/** A server call the page makes, by its path. */
const call = (path: string) => (method: string, url: URL) => method === "POST" && url.pathname === path;

test("failed part PUTs are retried, an expired one signed again, and the upload completes", async ({
  page,
  drop,
}) => {
  drop.store.fault(part(2), "internal-error");
  drop.store.fault(part(3), "expired");
  drop.store.fault(part(4), "slow-down");
  // The parts each sign call asked for.
  const signed: number[][] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname !== "/api/uploads/sign") return;
    signed.push(request.postDataJSON().parts.map((p: { part_number: number }) => p.part_number));
  });
  await openPage(page, drop.front.url);
  const [digest] = await dropGeneratedFiles(page, [{ name: "flaky.bin", size: 40 * MIB, type: "" }]);
  expect(await storedDigest(page, "flaky.bin", drop.store.url)).toBe(digest);
  expect(outcomes(drop.store, part(2))).toEqual(["internal-error", 200]);
  expect(outcomes(drop.store, part(3))).toEqual(["expired", 200]);
  expect(outcomes(drop.store, part(4))).toEqual(["slow-down", 200]);
  // The expired URL was signed again (within the same second, SigV4 gives the same
  // URL: the sign calls, not the URLs, tell).
  expect(signed.filter((parts) => parts.includes(3)).length, JSON.stringify(signed)).toBe(2);
});

test("a part the store refuses fails the upload with the reason and aborts it; Retry starts it again", async ({
  page,
  drop,
}) => {
  const stop = drop.store.fault(part(1), "bad-request", Infinity);
  await openPage(page, drop.front.url);
  await dropGeneratedFiles(page, [{ name: "refused.bin", size: 12 * MIB, type: "" }]);
  const row = fileRow(page, "refused.bin");
  await expect(row).toHaveAttribute("data-state", "failed");
  await expect(row).toContainText("part 1: the store rejected the request (HTTP 400)");
  // Refused once, not asked again; the upload was aborted in the store.
  expect(outcomes(drop.store, part(1))).toEqual(["bad-request"]);
  await expect.poll(() => drop.front.seen(call("/api/uploads/abort")).map((a) => a.status)).toEqual([200]);
  await expect.poll(() => multipartUploadsInStore("refused.bin")).toBe(0);

  // Once the store accepts parts again, Retry starts the file afresh, and it lands.
  stop();
  await row.getByRole("button", { name: /^Retry / }).click();
  await expect(row).toHaveAttribute("data-state", "done");
  await expect(row).toContainText("Uploaded");

  // Finished rows can be cleared away.
  await page.getByRole("button", { name: "Clear finished" }).click();
  await expect(row).toHaveCount(0);
});

test("a part corrupted on the way is refused by the store's checksum, sent again, and lands intact", { tag: ["@store", "@firefox"] }, async ({
  page,
  drop,
}) => {
  drop.store.fault(part(2), "corrupt");
  await openPage(page, drop.front.url);
  const [digest] = await pickGeneratedFiles(page, [{ name: "bitflip.bin", size: 20 * MIB }]);
  expect(await storedDigest(page, "bitflip.bin", drop.store.url)).toBe(digest);
  // The store itself refused the changed bytes (400 BadDigest, or Garage's
  // InvalidDigest); the page sent the part again.
  const tries = drop.store.seen(part(2));
  expect(tries.map((a) => a.fault ?? a.status)).toEqual(["corrupt", 200]);
  expect(tries[0].status, "the store's answer to the corrupted part").toBe(400);
  // Every part went with its CRC32C, signed into its URL.
  for (const n of [1, 2, 3]) {
    const signed = drop.store.seen(part(n)).map((a) => a.url.searchParams.get("X-Amz-SignedHeaders"));
    expect(signed.every((headers) => headers?.split(";").includes("x-amz-checksum-crc32c")), `part ${n}`).toBe(true);
  }
});

test("when retries run out, the row said which part was retried and why, then fails with the reason", async ({
  page,
  drop,
}) => {
  // Part 2 meets a 500 every time. The retries wait 0, 1, 3, 5, 10, 20 and 45 s on the
  // page's clock, which the test moves on.
  await page.clock.install();
  drop.store.fault(part(2), "internal-error", Infinity);
  await openPage(page, drop.front.url);
  await dropGeneratedFiles(page, [{ name: "doomed.bin", size: 20 * MIB, type: "" }]);
  const row = fileRow(page, "doomed.bin");
  await expect(row).toContainText("part 2: the store had an internal error (HTTP 500); retrying");
  await expect
    .poll(
      async () => {
        await page.clock.fastForward(5_000);
        return row.getAttribute("data-state");
      },
      { intervals: [250], timeout: 60_000 },
    )
    .toBe("failed");
  await expect(row).toContainText("part 2: the store had an internal error (HTTP 500)");
  await expect(row).not.toContainText("retrying");
  // The first try and seven retries, then the upload was aborted.
  expect(outcomes(drop.store, part(2))).toEqual(Array(8).fill("internal-error"));
  await expect.poll(() => drop.front.seen(call("/api/uploads/abort")).map((a) => a.status)).toEqual([200]);
});

test("a small file's PUT whose answer was lost is sent again; the store's 412 counts as stored", { tag: "@store" }, async ({
  page,
  drop,
}) => {
  // The store stores the file, the page never hears: the PUT goes again with the same
  // URL, which only creates its key, and a store with conditional writes answers 412.
  drop.store.fault(putOf("lost.txt"), "lose-answer");
  await openPage(page, drop.front.url);
  const [digest] = await dropGeneratedFiles(page, [{ name: "lost.txt", size: 5000, type: "text/plain" }]);
  expect(await storedDigest(page, "lost.txt", drop.store.url)).toBe(digest);
  const again = storeFacts().if_none_match ? 412 : 200;
  expect(outcomes(drop.store, putOf("lost.txt"))).toEqual(["lose-answer", again]);
  // The first try had stored it.
  expect(drop.store.seen(putOf("lost.txt"))[0].status).toBe(200);
  await expect(fileRow(page, "lost.txt")).toContainText("Uploaded");
  // The 412 counted as stored, not as a failure the page then found finished.
  if (again === 412) expect(drop.front.seen(call("/api/uploads/abort"))).toEqual([]);
});

test("a completion whose answer was lost is asked again and finds the finished file", { tag: "@store" }, async ({
  page,
  drop,
}) => {
  drop.front.fault(call("/api/uploads/complete"), "lose-answer");
  await openPage(page, drop.front.url);
  const [digest] = await dropGeneratedFiles(page, [{ name: "completed twice.bin", size: 20 * MIB, type: "" }]);
  expect(await storedDigest(page, "completed twice.bin", drop.store.url)).toBe(digest);
  // The first completion took effect (the server answered 200, the page never heard).
  const completions = drop.front.seen(call("/api/uploads/complete"));
  expect(completions.map((a) => a.fault ?? a.status)).toEqual(["lose-answer", 200]);
  expect(completions[0].status).toBe(200);
});

test("a completion refused for a cut try of a part sends the parts sent twice again, or all, then completes", async ({
  page,
  drop,
}) => {
  // The first completion of each file is answered as the server answers where the
  // store completes with a cut try of a part it does not list (Garage). a.bin's part 2
  // failed once on its way, so only it goes again; b.bin's parts each went once, so all
  // of them go again (the browser may have resent one unseen).
  const ofFile = (name: string, n: number) => (method: string, url: URL) => putOf(name)(method, url) && part(n)(method, url);
  const completions = () => drop.front.seen(call("/api/uploads/complete")).map((a) => a.fault ?? a.status);
  await openPage(page, drop.front.url);

  drop.front.fault(call("/api/uploads/complete"), "part-to-send-again");
  drop.store.fault(ofFile("a.bin", 2), "internal-error");
  const [a] = await dropGeneratedFiles(page, [{ name: "a.bin", size: 20 * MIB, type: "" }]);
  expect(await storedDigest(page, "a.bin", drop.store.url)).toBe(a);
  expect(completions()).toEqual(["part-to-send-again", 200]);
  expect([1, 2, 3].map((n) => outcomes(drop.store, ofFile("a.bin", n)))).toEqual([[200], ["internal-error", 200, 200], [200]]);

  drop.front.fault(call("/api/uploads/complete"), "part-to-send-again");
  const [b] = await dropGeneratedFiles(page, [{ name: "b.bin", size: 20 * MIB, type: "" }]);
  expect(await storedDigest(page, "b.bin", drop.store.url)).toBe(b);
  expect(completions()).toEqual(["part-to-send-again", 200, "part-to-send-again", 200]);
  expect([1, 2, 3].map((n) => outcomes(drop.store, ofFile("b.bin", n)))).toEqual([[200, 200], [200, 200], [200, 200]]);
});
