import { expect } from "@playwright/test";
import { MIB, dropGeneratedFiles, openPage, partNumber, pickGeneratedFiles, storedDigest } from "./helpers";
import { outcomes, part, putOf, test } from "./relayed-drop";

// Real faults between the browser and the run's store (the embedded one, Garage or
// SeaweedFS), and between the browser and the server: a relay in front of each cuts
// connections, stalls them, and answers as an overloaded store or a proxy would. Each
// test asserts that its fault happened, that the page sent the request again, and that
// the stored bytes are the file's.

test("a connection cut in the middle of a part: the part is sent again and the file lands intact", { tag: "@store" }, async ({
  page,
  drop,
}) => {
  // Chromium resends by itself, unseen by the page, a request reset on a connection it
  // counts as reused (one left idle in its pool too, which the relay cannot tell from a
  // new one): part 2 is cut until the page has seen it fail.
  const stop = drop.store.fault(part(2), "reset", Infinity);
  const failed: string[] = [];
  page.on("requestfailed", (r) => {
    if (partNumber(r.url()) !== 2) return;
    failed.push(r.failure()?.errorText ?? "");
    stop();
  });
  let sent = 0;
  page.on("request", (r) => {
    if (partNumber(r.url()) === 2) sent++;
  });
  await openPage(page, drop.front.url);
  const [digest] = await dropGeneratedFiles(page, [{ name: "cut.bin", size: 40 * MIB, type: "" }]);
  expect(await storedDigest(page, "cut.bin", drop.store.url)).toBe(digest);
  // Cut (again, where Chromium sent it once more on its own), then stored.
  const tries = outcomes(drop.store, part(2));
  expect(tries.at(-1)).toBe(200);
  expect(tries.slice(0, -1).length).toBeGreaterThan(0);
  expect(tries.slice(0, -1).every((t) => t === "reset"), tries.join()).toBe(true);
  expect(failed.length, "the page saw the connection go").toBeGreaterThan(0);
  expect(new Set(failed)).toEqual(new Set(["net::ERR_CONNECTION_RESET"]));
  expect(sent, "and sent the part again after each").toBe(failed.length + 1);
});

test("a part that stops moving is given up after 30 s and sent again; the file lands intact", { tag: "@store" }, async ({
  page,
  drop,
}) => {
  // The 30 s are the page's own, so they pass on the page's clock: once the relay has
  // stalled part 2, the clock is moved on in steps until the page gives the part up
  // (progress the browser still reports as its buffers fill restarts the 30 s).
  await page.clock.install();
  drop.store.fault(part(2), "stall");
  const failed: string[] = [];
  page.on("requestfailed", (r) => {
    if (partNumber(r.url()) === 2) failed.push(r.failure()?.errorText ?? "");
  });
  await openPage(page, drop.front.url);
  const [digest] = await dropGeneratedFiles(page, [{ name: "stalled.bin", size: 40 * MIB, type: "" }]);
  await expect.poll(() => drop.store.seen(part(2))[0]?.stalledAt).toBeDefined();
  await expect
    .poll(
      async () => {
        await page.clock.fastForward(10_000);
        return failed.length;
      },
      { intervals: [1_000] },
    )
    .toBeGreaterThan(0);
  expect(await storedDigest(page, "stalled.bin", drop.store.url)).toBe(digest);
  expect(outcomes(drop.store, part(2)), "stalled once, then stored").toEqual(["stall", 200]);
  expect(failed, "the page stopped the stalled PUT itself").toEqual(["net::ERR_ABORTED"]);
});

test("the store asks to slow down (503 SlowDown, 429): fewer files go at once, then more again, and all land", async ({
  page,
  drop,
}) => {
  // Each PUT takes a while, so the page keeps as many going as it allows (six).
  const storePut = (method: string) => method === "PUT";
  drop.store.delay(storePut, 300);
  drop.store.fault(putOf("many-15.bin"), "slow-down");
  drop.store.fault(putOf("many-45.bin"), "too-many");
  await openPage(page, drop.front.url);
  const files = Array.from({ length: 100 }, (_, i) => ({ name: `many-${i}.bin`, size: 64 * 1024, type: "" }));
  const digests = await dropGeneratedFiles(page, files);
  await expect(page.locator("li.file[data-state=done]")).toHaveCount(files.length, { timeout: 60_000 });
  expect(await storedDigest(page, "many-15.bin", drop.store.url)).toBe(digests[15]);
  expect(await storedDigest(page, "many-45.bin", drop.store.url)).toBe(digests[45]);
  expect(outcomes(drop.store, putOf("many-15.bin"))).toEqual(["slow-down", 200]);
  expect(outcomes(drop.store, putOf("many-45.bin"))).toEqual(["too-many", 200]);

  // How many PUTs were in flight as each arrived: six before the first throttle; after
  // each, fewer (the page halves its limit, and grows it back by one only after as many
  // successes as the limit), then six again.
  const puts = drop.store.seen(storePut);
  const throttles = puts.filter((a) => a.fault);
  const before = puts.filter((a) => a.at < throttles[0].at).map((a) => a.inFlight);
  expect(Math.max(...before), before.join(" ")).toBe(6);
  for (const throttle of throttles) {
    const after = puts.filter((a) => a.at > throttle.answeredAt!).map((a) => a.inFlight);
    expect(Math.max(...after.slice(0, 6)), `${throttle.fault}: ${after.join(" ")}`).toBeLessThan(6);
    expect(Math.max(...after), `${throttle.fault}: ${after.join(" ")}`).toBe(6);
  }
});

test("a throttled PUT waits what the store's Retry-After says, or a second where it says nothing", async ({
  page,
  drop,
}) => {
  // Two small files, each its own PUT with connections to spare: each goes again as
  // soon as the page lets it.
  drop.store.fault(putOf("asked-to-wait.txt"), "too-many");
  drop.store.fault(putOf("slowed-down.txt"), "slow-down");
  await openPage(page, drop.front.url);
  const digests = await dropGeneratedFiles(page, [
    { name: "asked-to-wait.txt", size: 1000, type: "text/plain" },
    { name: "slowed-down.txt", size: 1000, type: "text/plain" },
  ]);
  expect(await storedDigest(page, "asked-to-wait.txt", drop.store.url)).toBe(digests[0]);
  expect(await storedDigest(page, "slowed-down.txt", drop.store.url)).toBe(digests[1]);
  const gap = (name: string) => {
    const tries = drop.store.seen(putOf(name));
    expect(tries.map((a) => a.fault ?? a.status)).toEqual([tries[0].fault, 200]);
    return tries[1].at - tries[0].answeredAt!;
  };
  // The 429 said `Retry-After: 2`; S3's 503 SlowDown says nothing.
  expect(gap("asked-to-wait.txt"), "waited for Retry-After").toBeGreaterThanOrEqual(2_000);
  expect(gap("slowed-down.txt"), "waited a second").toBeGreaterThanOrEqual(1_000);
});

test("server calls answered with a proxy's 502 page, or 429, are asked again and the upload lands", { tag: "@firefox" }, async ({
  page,
  drop,
}) => {
  const call = (path: string) => (method: string, url: URL) => method === "POST" && url.pathname === path;
  drop.front.fault(call("/api/uploads/complete"), "bad-gateway");
  drop.front.fault((method, url) => method === "POST" && url.pathname.startsWith("/api/uploads/"), "bad-gateway");
  drop.front.fault(call("/api/uploads/sign"), "too-many");
  await openPage(page, drop.front.url);
  const [digest] = await pickGeneratedFiles(page, [{ name: "proxied.bin", size: 40 * MIB }]);
  expect(await storedDigest(page, "proxied.bin", drop.store.url)).toBe(digest);
  // Each faulted call was asked again and answered.
  expect(outcomes(drop.front, call("/api/uploads/start-batch"))).toEqual(["bad-gateway", 200]);
  expect(outcomes(drop.front, call("/api/uploads/sign"))).toEqual(["too-many", 200]);
  expect(outcomes(drop.front, call("/api/uploads/complete"))).toEqual(["bad-gateway", 200]);
});
