// The benchmark's measurements (bench/run.sh starts the servers and calls this).
//
// For each store and file size: s3drop's page in headless Chromium (from the moment the
// file is given to the page until its row says done), the AWS CLI with its defaults and
// tuned, one curl PUT to a presigned URL, and the disk's own sequential write. Then the
// server functions alone (signatures per CPU second; start/sign/complete latency at 1,
// 50 and 500 connections with wrk) and the page (WASM size, time until it accepts a
// file, its CRC32C's speed). Throughputs are shown as ratios to the best baseline
// measured in this run.

import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync, statSync, rmSync, existsSync, readdirSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

// The end-to-end suite's packages: Playwright and aws4fetch.
const require = createRequire(new URL("../end2end/package.json", import.meta.url));
const { chromium } = require("@playwright/test");
const { AwsClient } = require("aws4fetch");

const WORK = process.env.BENCH_WORK;
// BENCH_ONLY=browser measures only the page's uploads of large files, BENCH_ONLY=folders
// only its uploads of folders, BENCH_ONLY=page only the page's WASM, how soon it takes
// files and its CRC32C's speed (quick iterations on tuning).
const ONLY_BROWSER = process.env.BENCH_ONLY === "browser";
const ONLY_FOLDERS = process.env.BENCH_ONLY === "folders";
const ONLY_PAGE = process.env.BENCH_ONLY === "page";
// The uplink limits (Mbit/s) the 1 GiB file is also sent under, page and plain ceiling.
const THROTTLED_MIB = 1024;
const THROTTLES_MBIT = (process.env.BENCH_THROTTLES_MBIT ?? "100 1000").split(" ").filter(Boolean).map(Number);
const SIZES = ONLY_FOLDERS || ONLY_PAGE ? [] : process.env.BENCH_SIZES.split(" ").map(Number);
const AWS = process.env.AWS_CLI;
const MIB = 1024 * 1024;
const TICKS = 100; // clock ticks per second in /proc/<pid>/stat

const envFile = (path) =>
  Object.fromEntries(
    readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2)),
  );
const secrets = JSON.parse(readFileSync(join(WORK, "embedded", "secrets.json"), "utf8"));
const embeddedPid = Number(readFileSync(join(WORK, "embedded.pid"), "utf8"));
const garage = envFile(join(WORK, "stores", "garage.env"));
const STORES = [
  {
    name: "embedded",
    page: "http://localhost:3200/",
    folderPage: "http://localhost:3202/",
    folderServerPid: Number(readFileSync(join(WORK, "embedded-defaults.pid"), "utf8")),
    folderLink: readFileSync(join(WORK, "embedded-defaults.link"), "utf8").trim(),
    folderData: ["--data-dir", join(WORK, "embedded-defaults")],
    token: readFileSync(join(WORK, "embedded.token"), "utf8").trim(),
    folderToken: readFileSync(join(WORK, "embedded-defaults.token"), "utf8").trim(),
    recordPage: "http://localhost:3204/",
    recordLink: readFileSync(join(WORK, "embedded-record.link-id"), "utf8").trim(),
    endpoint: "http://127.0.0.1:3200",
    bucket: "s3drop",
    region: "us-east-1",
    key: secrets.store_access_key,
    secret: secrets.store_secret_key,
    serverPid: embeddedPid,
    // The embedded store runs in s3drop's own process.
    storePid: embeddedPid,
  },
  {
    name: "garage",
    page: "http://localhost:3201/",
    folderPage: "http://localhost:3203/",
    folderServerPid: Number(readFileSync(join(WORK, "garage-defaults.pid"), "utf8")),
    folderLink: readFileSync(join(WORK, "garage-defaults.link"), "utf8").trim(),
    token: readFileSync(join(WORK, "garage.token"), "utf8").trim(),
    folderToken: readFileSync(join(WORK, "garage-defaults.token"), "utf8").trim(),
    folderData: [
      "--data-dir", join(WORK, "garage-defaults"),
      "--database-url", readFileSync(join(WORK, "garage-defaults.database-url"), "utf8").trim(),
    ],
    recordPage: "http://localhost:3205/",
    recordLink: readFileSync(join(WORK, "garage-record.link-id"), "utf8").trim(),
    endpoint: garage.AWS_ENDPOINT_URL,
    bucket: garage.S3DROP_BUCKET,
    region: garage.AWS_REGION,
    key: garage.AWS_ACCESS_KEY_ID,
    secret: garage.AWS_SECRET_ACCESS_KEY,
    serverPid: Number(readFileSync(join(WORK, "garage.pid"), "utf8")),
    storePid: pidOf(join(WORK, "stores", "garage", "garage.toml")),
  },
];

/** The process whose command line names `path`. */
function pidOf(path) {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(path)) return Number(pid);
    } catch {
      // The process ended meanwhile.
    }
  }
  throw new Error(`no process runs with ${path}`);
}

/** A SigV4 client for a store's credentials. */
const clientFor = (store) =>
  new AwsClient({ accessKeyId: store.key, secretAccessKey: store.secret, region: store.region, service: "s3" });

/** CPU seconds a process has used. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Resident memory of a process, in bytes. */
function rss(pid) {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return line ? Number(line[1]) * 1024 : 0;
}

/** CPU seconds used by Chromium's processes, all of them and by kind: the renderers
 *  (the page), the browser process (which reads files for the others), the network
 *  service (which sends) and the rest (GPU, storage). */
function chromiumCpu() {
  const used = { all: 0, renderer: 0, browser: 0, network: 0, other: 0 };
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("chrom")) continue;
      const cpu = cpuSeconds(pid);
      used.all += cpu;
      if (cmdline.includes("--type=renderer")) used.renderer += cpu;
      else if (cmdline.includes("NetworkService")) used.network += cpu;
      else if (!cmdline.includes("--type=")) used.browser += cpu;
      else used.other += cpu;
    } catch {
      // The process ended meanwhile.
    }
  }
  return used;
}

/** Starts counting the CPU of Chromium's processes and of `store`'s store; answers a
 *  function that says what each used since, by kind (`chromiumCpu`'s, and `store`). */
function cpuMeter(store) {
  const chromium = chromiumCpu();
  const storeCpu = cpuSeconds(store.storePid);
  return () => {
    const now = chromiumCpu();
    const used = Object.fromEntries(Object.keys(now).map((k) => [k, now[k] - chromium[k]]));
    return { ...used, store: cpuSeconds(store.storePid) - storeCpu };
  };
}

/** Limits the page's uplink to `mbit` Mbit/s with Chromium's network emulation (none
 *  when undefined). The session leaves request bodies out of DevTools' events, as
 *  Playwright's does (end2end/playwright-post-data.mjs). */
async function throttle(context, page, mbit, latency = 0) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable", { maxPostDataSize: 1024 * 1024 });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency,
    downloadThroughput: -1,
    uploadThroughput: mbit ? (mbit * 1e6) / 8 : -1,
  });
  return cdp;
}

/** Resident memory of Chromium's renderers (the page's process), in bytes. */
function rendererRss() {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--type=renderer")) total += rss(pid);
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

/** Runs a command, timing it; fails loudly when it fails. */
function timed(command, args, env = {}) {
  const start = process.hrtime.bigint();
  const run = spawnSync(command, args, { env: { ...process.env, ...env }, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${run.stderr}${run.stdout}`);
  return { seconds: seconds(start), stdout: run.stdout };
}

function awsEnv(store, config) {
  const file = join(WORK, `aws-${store.name}-${config.name}.cfg`);
  writeFileSync(file, `[default]\nregion = ${store.region}\ns3 =\n${config.s3}\n`);
  return {
    AWS_CONFIG_FILE: file,
    AWS_ACCESS_KEY_ID: store.key,
    AWS_SECRET_ACCESS_KEY: store.secret,
    AWS_ENDPOINT_URL: store.endpoint,
  };
}

const AWS_CONFIGS = [
  { name: "default", label: "AWS CLI, defaults", s3: "  addressing_style = path" },
  {
    name: "tuned",
    label: "AWS CLI, tuned (16 × 64 MiB)",
    s3: "  addressing_style = path\n  max_concurrent_requests = 16\n  multipart_chunksize = 64MB",
  },
];

function awsUpload(store, config, file, key) {
  const env = awsEnv(store, config);
  const args = ["s3", "cp", "--only-show-errors", file, `s3://${store.bucket}/${key}`];
  const result = timed(AWS, args, env);
  timed(AWS, ["s3", "rm", "--only-show-errors", `s3://${store.bucket}/${key}`], env);
  return result.seconds;
}

/** `s3drop upload` of `path` (a file or a folder) to `server` with `token`: seconds. */
function cliUpload(server, token, path) {
  const journal = join(WORK, "cli-journal.json");
  return timed("dist/s3drop", ["upload", "--quiet", "--server", server, "--journal", journal, path], {
    S3DROP_TOKEN: token,
  }).seconds;
}

/** `aws s3 sync` of a folder (the AWS CLI's defaults) to the store: seconds. */
function awsSync(store, dir, prefix) {
  const env = awsEnv(store, AWS_CONFIGS[0]);
  const result = timed(AWS, ["s3", "sync", "--only-show-errors", dir, `s3://${store.bucket}/${prefix}`], env);
  timed(AWS, ["s3", "rm", "--recursive", "--only-show-errors", `s3://${store.bucket}/${prefix}`], env);
  return result.seconds;
}

async function curlUpload(store, file, key) {
  const client = clientFor(store);
  const url = `${store.endpoint}/${store.bucket}/${key}`;
  const signed = await client.sign(url, {
    method: "PUT",
    aws: { signQuery: true, allHeaders: false },
  });
  const result = timed("curl", ["-sS", "--fail", "-o", "/dev/null", "-T", file, signed.url]);
  await client.fetch(url, { method: "DELETE" });
  return result.seconds;
}

function diskWrite(mib) {
  const target = join(WORK, "dd.bin");
  const result = timed("dd", ["if=/dev/zero", `of=${target}`, "bs=8M", `count=${mib / 8}`, "conv=fsync"]);
  rmSync(target);
  return result.seconds;
}

/** s3drop's page: the file given to the page until its row says done (the uplink
 *  limited to `mbit` Mbit/s when given). */
async function browserUpload(browser, store, file, mbit) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(store.page);
  await page.locator("html[data-hydrated=true]").waitFor();
  const cdp = await throttle(context, page, mbit);
  await cdp.send("Performance.enable");
  const peaks = { heap: 0, renderer: 0, server: 0 };
  const sample = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    peaks.heap = Math.max(peaks.heap, metrics.find((m) => m.name === "JSHeapUsedSize").value);
    peaks.renderer = Math.max(peaks.renderer, rendererRss());
    peaks.server = Math.max(peaks.server, rss(store.serverPid));
  };
  const cpuBefore = cpuSeconds(store.serverPid);
  const meter = cpuMeter(store);
  const start = process.hrtime.bigint();
  await page.getByTestId("file-picker").setInputFiles(file);
  let done = false;
  const row = page.locator("li.file").first();
  const finished = row
    .locator("xpath=self::*[@data-state='done' or @data-state='failed']")
    .waitFor({ timeout: 30 * 60_000 })
    .then(() => (done = true));
  while (!done) {
    await sample();
    await Promise.race([finished, new Promise((r) => setTimeout(r, 250))]);
  }
  const elapsed = seconds(start);
  const state = await row.getAttribute("data-state");
  if (state !== "done") throw new Error(`the page's upload ended ${state}: ${await row.textContent()}`);
  const cpu = cpuSeconds(store.serverPid) - cpuBefore;
  const used = meter();
  const href = await row.locator("a.download").getAttribute("href");
  const key = decodeURIComponent(new URL(href).pathname).split("/").slice(2).join("/");
  await context.close();
  return { seconds: elapsed, cpu, used, key, ...peaks };
}

/** The browser's own ceiling on this machine: the same file sent as a multipart upload
 *  in the page's part size (the server's policy), 4 at a time, by plain XHR PUTs to
 *  presigned URLs, with no checksums and no page around it (created and completed from
 *  here). How each part goes, by `mode`: "slice", a slice of the file, nothing read by
 *  the page; "read-first", read into memory (as any page that checksums its parts must,
 *  but no checksum computed), then sent as a slice; "read-once", read, then sent as the
 *  bytes read. The uplink is limited to `mbit` Mbit/s when given. */
async function browserCeiling(browser, store, file, key, mode = "slice", mbit = undefined) {
  const client = clientFor(store);
  // The browser sends to the store as the page would: the embedded store on the
  // page's own origin, Garage at its endpoint (CORS set up for the page).
  const endpoint = store.name === "embedded" ? new URL(store.page).origin : store.endpoint;
  const url = `${endpoint}/${store.bucket}/${key}`;
  const created = await (await client.fetch(`${url}?uploads`, { method: "POST" })).text();
  const uploadId = created.match(/<UploadId>([^<]+)<\/UploadId>/)[1];
  const size = statSync(file).size;
  const part = (await call(store, "policy", {})).part_size;
  const urls = [];
  for (let n = 1; n <= Math.ceil(size / part); n++) {
    const signed = await client.sign(`${url}?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`, {
      method: "PUT",
      aws: { signQuery: true, allHeaders: false },
    });
    urls.push(signed.url);
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(store.page);
  await throttle(context, page, mbit);
  await page.evaluate(() => {
    const input = document.createElement("input");
    input.type = "file";
    input.id = "ceiling";
    document.body.append(input);
  });
  await page.setInputFiles("#ceiling", file);
  const meter = cpuMeter(store);
  const start = process.hrtime.bigint();
  const etags = await page.evaluate(
    async ([urls, part, mode]) => {
      const file = document.getElementById("ceiling").files[0];
      const etags = [];
      let next = 0;
      const xhrPut = (url, body) =>
        new Promise((resolve, reject) => {
          const xhr = new XMLHttpRequest();
          xhr.open("PUT", url);
          xhr.upload.onprogress = () => {};
          xhr.onload = () => (xhr.status < 300 ? resolve(xhr.getResponseHeader("ETag")) : reject(new Error(`HTTP ${xhr.status}`)));
          xhr.onerror = () => reject(new Error("network"));
          xhr.send(body);
        });
      const worker = async () => {
        while (next < urls.length) {
          const i = next++;
          const slice = file.slice(i * part, (i + 1) * part);
          if (mode === "slice") etags[i] = await xhrPut(urls[i], slice);
          else if (mode === "read-first") {
            await slice.arrayBuffer();
            etags[i] = await xhrPut(urls[i], slice);
          } else if (mode === "read-once") etags[i] = await xhrPut(urls[i], await slice.arrayBuffer());
          else throw new Error(`no such mode ${mode}`);
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      return etags;
    },
    [urls, part, mode],
  );
  const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join("");
  const done = await client.fetch(`${url}?uploadId=${encodeURIComponent(uploadId)}`, {
    method: "POST",
    body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`,
  });
  if (!done.ok) throw new Error(`completing the ceiling's upload: HTTP ${done.status} ${await done.text()}`);
  const elapsed = seconds(start);
  const used = meter();
  await context.close();
  await client.fetch(url, { method: "DELETE" });
  return { seconds: elapsed, used, part };
}

/** Writes `count` files of `size` random bytes into a folder of WORK; answers its path. */
function makeFolder(count, size) {
  const dir = join(WORK, `folder-${count}x${size}`);
  if (!existsSync(dir)) {
    mkdirSync(dir);
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `f${String(i).padStart(5, "0")}.bin`), randomBytes(size));
  }
  return dir;
}

/** s3drop's page uploading a folder of many small files, with `latency` ms added to
 *  every request (Chromium's network emulation): seconds, server calls per file, 429s,
 *  peak JS heap and the longest main-thread task. On the home page's open drop, or
 *  through the store's upload link when `throughLink`. */
async function folderUpload(browser, store, dir, count, latency, throughLink = false) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(throughLink ? `${store.folderPage}l/${store.folderLink}` : store.folderPage);
  await page.locator("html[data-hydrated=true]").waitFor();
  // Long tasks, as Chromium reports them (50 ms and more).
  await page.evaluate(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longest = Math.max(window.__longest, entry.duration);
    }).observe({ type: "longtask", buffered: false });
  });
  const cdp = await throttle(context, page, undefined, latency);
  await cdp.send("Performance.enable");
  let calls = 0;
  let throttled = 0;
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/")) calls++;
  });
  page.on("response", (response) => {
    if (response.status() === 429) throttled++;
  });
  let heap = 0;
  const cpuBefore = cpuSeconds(store.folderServerPid);
  const chromiumBefore = chromiumCpu();
  const start = process.hrtime.bigint();
  await page.getByTestId("folder-picker").setInputFiles(dir);
  const queue = page.locator("ul.queue");
  let finished = false;
  const done = queue
    .locator(`xpath=self::*[@data-done + @data-failed = ${count}]`)
    .waitFor({ timeout: 30 * 60_000 })
    .then(() => (finished = true));
  while (!finished) {
    const { metrics } = await cdp.send("Performance.getMetrics");
    heap = Math.max(heap, metrics.find((m) => m.name === "JSHeapUsedSize").value);
    await Promise.race([done, new Promise((r) => setTimeout(r, 250))]);
  }
  const elapsed = seconds(start);
  const serverCpu = cpuSeconds(store.folderServerPid) - cpuBefore;
  const rendererCpu = chromiumCpu().renderer - chromiumBefore.renderer;
  const failed = Number(await queue.getAttribute("data-failed"));
  if (failed) throw new Error(`${failed} of ${count} files failed`);
  const longest = await page.evaluate(() => window.__longest);
  await context.close();
  return { seconds: elapsed, calls: calls / count, throttled, heap, longest, serverCpu, rendererCpu };
}

/** A webhook receiver on loopback that answers each delivery after `delay` ms (without
 *  checking signatures: the suite does), noting when each `upload.completed` and
 *  `batch.completed` arrived and how long after its event was written. */
async function startReceiver(delay) {
  const got = { uploads: new Set(), batches: 0, lags: [] };
  const server = createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (delay) await new Promise((r) => setTimeout(r, delay));
    response.writeHead(204).end();
    if (body.type === "upload.completed") got.uploads.add(body.data.key);
    if (body.type === "batch.completed") got.batches++;
    got.lags.push(Date.now() - Date.parse(body.timestamp));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, got, url: `http://127.0.0.1:${server.address().port}/hook` };
}

/** `s3drop hooks …` on a folder server's database. */
function hooksCommand(store, ...args) {
  return execFileSync("dist/s3drop", [...store.folderData, "hooks", ...args], {
    encoding: "utf8",
    env: { ...process.env, RUST_LOG: "warn" },
  });
}

/** The folder uploaded with a webhook whose receiver answers after `delay` ms: the
 *  upload's seconds, then (once every event has arrived) how many arrived and the lag
 *  from event to answer, median and worst, in ms. */
async function hookedFolderUpload(browser, store, dir, count, delay) {
  const receiver = await startReceiver(delay);
  const added = hooksCommand(store, "add", receiver.url);
  const id = added.split("\n")[1].split(" ")[0];
  try {
    const upload = await folderUpload(browser, store, dir, count, 0);
    const deadline = Date.now() + 10 * 60_000;
    while ((receiver.got.uploads.size < count || receiver.got.batches < 1) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const lags = receiver.got.lags.sort((a, b) => a - b);
    return {
      seconds: upload.seconds,
      uploads: receiver.got.uploads.size,
      batches: receiver.got.batches,
      lagMedian: lags[Math.floor(lags.length / 2)] ?? NaN,
      lagWorst: lags[lags.length - 1] ?? NaN,
    };
  } finally {
    hooksCommand(store, "remove", id);
    receiver.server.close();
  }
}

/** How long until the page accepts a file: navigation start to hydration (to within a
 *  frame), in ms; the median of five fresh loads. */
async function timeToInteractive(browser, store) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(store.page, { waitUntil: "commit" });
    const at = await page.waitForFunction(
      () => document.documentElement?.dataset.hydrated === "true" && performance.now(),
      null,
      { polling: "raf" },
    );
    times.push(await at.jsonValue());
    await context.close();
  }
  times.sort((a, b) => a - b);
  return times[2];
}

/** The median time of five `record/list` calls for a page of 50 with `filter`, as the
 *  operator (logged in once per store). */
async function recordCall(store, filter) {
  store.session ??= await logIn(store.recordPage, "bench-operator");
  const wanted = { ...filter, link_id: filter.link ? store.recordLink : undefined, link: undefined };
  const times = [];
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint();
    const response = await fetch(`${store.recordPage}api/record/list`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: store.session },
      body: JSON.stringify({ filter: wanted, after: null, limit: 50 }),
    });
    const page = await response.json();
    times.push(seconds(start) * 1000);
    if (!response.ok || page.uploads.length === 0) throw new Error(`record/list: ${JSON.stringify(page)}`);
  }
  times.sort((a, b) => a - b);
  return times[2];
}

/** The operator's session cookie on the server at `page`. */
async function logIn(page, password) {
  const response = await fetch(`${page}login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `password=${encodeURIComponent(password)}`,
    redirect: "manual",
  });
  const cookie = response.headers.get("set-cookie");
  if (!cookie) throw new Error(`logging in at ${page}: HTTP ${response.status}`);
  return cookie.split(";")[0];
}

async function call(store, endpoint, body) {
  const response = await fetch(`${store.page}api/${endpoint}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${endpoint}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Signatures per second of server CPU, signing 10,000 parts 100 at a time. */
async function signatureRate(store) {
  const started = await call(store, "uploads/start", {
    request: { name: "sign.bin", size: 10_000 * 8 * MIB, content_type: "" },
  });
  const cpuBefore = cpuSeconds(store.serverPid);
  const start = process.hrtime.bigint();
  for (let first = 1; first <= 10_000; first += 100) {
    const parts = Array.from({ length: 100 }, (_, i) => ({ part_number: first + i, crc32c: "AAAAAA==" }));
    await call(store, "uploads/sign", { token: started.token, parts });
  }
  const wall = seconds(start);
  const cpu = cpuSeconds(store.serverPid) - cpuBefore;
  await call(store, "uploads/abort", { token: started.token });
  return { cpu, wall };
}

/** wrk's latency and rate for one server function at `connections`. */
function load(store, endpoint, body, connections) {
  const script = join(WORK, `wrk-${endpoint.replace("/", "-")}.lua`);
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(JSON.stringify(body))}\n`,
  );
  const threads = String(Math.min(2, connections));
  const run = timed("wrk", ["-t", threads, "-c", String(connections), "-d", "5s", "--latency", "-s", script, `${store.page}api/${endpoint}`]);
  const out = run.stdout;
  // wrk prints durations as 812.00us, 1.20ms, 2.00s or 1.50m; NaN when it printed none.
  const toMs = (text) => {
    const [, value, unit] = text?.match(/^([\d.]+)(us|ms|s|m)$/) ?? [];
    return Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? NaN);
  };
  // Percentiles from the distribution's own lines: a thread's "+/- Stdev" such as
  // "92.50%" also ends in "50%".
  const p50 = toMs(out.match(/^\s+50%\s+(\S+)/m)?.[1]);
  const p99 = toMs(out.match(/^\s+99%\s+(\S+)/m)?.[1]);
  const rate = Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  if (Number.isNaN(p50 + p99 + rate)) console.error(`wrk's output for ${endpoint} at ${connections}:\n${out}`);
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? "0";
  return { p50, p99, rate, errors: Number(errors) };
}

async function serverFunctions(store) {
  const small = await call(store, "uploads/start", {
    request: { name: "done.txt", size: 5, content_type: "text/plain" },
  });
  const client = clientFor(store);
  await client.fetch(`${store.endpoint}/${store.bucket}/${small.key}`, { method: "PUT", body: "hello" });
  await call(store, "uploads/complete", { token: small.token, parts: [] });
  const big = await call(store, "uploads/start", {
    request: { name: "sign.bin", size: 64 * MIB, content_type: "" },
  });
  const calls = {
    "uploads/start": { request: { name: "load.bin", size: 64 * MIB, content_type: "" } },
    "uploads/sign": { token: big.token, parts: Array.from({ length: 8 }, (_, i) => ({ part_number: i + 1, crc32c: "AAAAAA==" })) },
    "uploads/complete": { token: small.token, parts: [] },
  };
  const rows = [];
  for (const [endpoint, body] of Object.entries(calls)) {
    for (const connections of [1, 50, 500]) {
      rows.push({ endpoint, connections, ...load(store, endpoint, body, connections) });
    }
  }
  return rows;
}

function wasmSizes() {
  const pkg = "dist/site/pkg";
  const sizes = (files) => {
    const of = (f) => ({
      raw: statSync(f).size,
      gzip: execFileSync("gzip", ["-9", "-c", f]).length,
      brotli: execFileSync("brotli", ["-c", "-q", "11", f]).length,
    });
    return files.map((f) => of(join(pkg, f))).reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }), { raw: 0, gzip: 0, brotli: 0 });
  };
  // Everyone's bundle, and each chunk split out of it, fetched only where it is shown,
  // with the pieces it shares with other chunks (the split's manifest names them).
  const manifest = JSON.parse(readFileSync(join(pkg, "__wasm_split_manifest.json"), "utf8"));
  return {
    page: sizes(["s3drop.wasm"]),
    chunks: Object.entries(manifest).map(([name, files]) => ({ name, ...sizes(files.map((f) => `${f}.wasm`)) })),
  };
}

// ---- run ----------------------------------------------------------------------------

const kb = (n) => `${(n / 1000).toFixed(0)} KB`;
const mb = (n) => `${(n / MIB).toFixed(0)} MiB`;
const rate = (mib, s) => mib / s;
const lines = [];
const row = (...cells) => {
  lines.push(`| ${cells.join(" | ")} |`);
  console.error(lines.at(-1));
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});

row("Measure", ...STORES.map((s) => s.name));
row("---", ...STORES.map(() => "---:"));
const disk = {};
for (const mib of SIZES) disk[mib] = rate(mib, diskWrite(mib));
for (const mib of SIZES) {
  const file = join(WORK, `file-${mib}.bin`);
  const results = [];
  for (const store of STORES) {
    console.error(`${store.name}, ${mib} MiB`);
    const browserRun = await browserUpload(browser, store, file);
    const client = clientFor(store);
    await client.fetch(`${store.endpoint}/${store.bucket}/${browserRun.key}`, { method: "DELETE" });
    const ceiling = await browserCeiling(browser, store, file, `bench/ceiling-${mib}`);
    const readFirst = await browserCeiling(browser, store, file, `bench/read-first-${mib}`, "read-first");
    const readOnce = await browserCeiling(browser, store, file, `bench/read-once-${mib}`, "read-once");
    // The uplink limited, where the network and not the CPU is the limit.
    const throttled = [];
    for (const mbit of mib === THROTTLED_MIB ? THROTTLES_MBIT : []) {
      const run = await browserUpload(browser, store, file, mbit);
      await client.fetch(`${store.endpoint}/${store.bucket}/${run.key}`, { method: "DELETE" });
      const bare = await browserCeiling(browser, store, file, `bench/ceiling-${mib}-${mbit}`, "slice", mbit);
      throttled.push({ mbit, run, bare });
    }
    const baselines = {};
    if (!ONLY_BROWSER) {
      for (const config of AWS_CONFIGS) baselines[config.label] = rate(mib, awsUpload(store, config, file, `bench/aws-${config.name}-${mib}`));
      baselines["curl, one presigned PUT"] = rate(mib, await curlUpload(store, file, `bench/curl-${mib}`));
    }
    const cli = ONLY_BROWSER ? undefined : rate(mib, cliUpload(store.page, store.token, file));
    results.push({ store, browserRun, baselines, ceiling, readFirst, readOnce, throttled, cli, s3drop: rate(mib, browserRun.seconds) });
  }
  const cell = (value, best) =>
    best ? `${value.toFixed(0)} MiB/s (${(value / best).toFixed(2)}×)` : `${value.toFixed(0)} MiB/s`;
  const best = results.map((r) => (ONLY_BROWSER ? undefined : Math.max(...Object.values(r.baselines))));
  row(`**${mb(mib * MIB)}: s3drop in Chromium**`, ...results.map((r, i) => `**${cell(r.s3drop, best[i])}**`));
  if (!ONLY_BROWSER) {
    row(`**${mb(mib * MIB)}: s3drop upload (the command line, CRC32C on every part)**`, ...results.map((r, i) => `**${cell(r.cli, best[i])}**`));
  }
  for (const label of Object.keys(results[0].baselines)) {
    row(`${mb(mib * MIB)}: ${label}`, ...results.map((r, i) => cell(r.baselines[label], best[i])));
  }
  row(
    `${mb(mib * MIB)}: plain XHR in Chromium, 4 × ${mb(results[0].ceiling.part)} parts, no checksums (the browser's ceiling)`,
    ...results.map((r, i) => `${cell(rate(mib, r.ceiling.seconds), best[i])}, ${((r.ceiling.used.all * 1024) / mib).toFixed(2)} s CPU/GiB`),
  );
  row(
    `${mb(mib * MIB)}: the same, each part read into memory first, then sent as a slice (the read-first ceiling: what a page that checksums parts must at least do)`,
    ...results.map((r, i) => `${cell(rate(mib, r.readFirst.seconds), best[i])}, ${((r.readFirst.used.all * 1024) / mib).toFixed(2)} s CPU/GiB`),
  );
  row(
    `${mb(mib * MIB)}: the same, each part read into memory, then sent as the bytes read`,
    ...results.map((r, i) => `${cell(rate(mib, r.readOnce.seconds), best[i])}, ${((r.readOnce.used.all * 1024) / mib).toFixed(2)} s CPU/GiB`),
  );
  const against = (run, ceiling) =>
    `${(ceiling.seconds / run.seconds).toFixed(2)}×, ${(run.used.all / ceiling.used.all).toFixed(2)}×`;
  row(
    `${mb(mib * MIB)}: s3drop ÷ the read-first ceiling: throughput, Chromium CPU per GiB (targets ≥ 0.9×, ≤ 1.15×)`,
    ...results.map((r) => against(r.browserRun, r.readFirst)),
  );
  row(
    `${mb(mib * MIB)}: s3drop ÷ the plain ceiling: throughput, Chromium CPU per GiB (target CPU ≤ 1.5×)`,
    ...results.map((r) => against(r.browserRun, r.ceiling)),
  );
  // Where the CPU goes, per GiB: Chromium's page process, its browser process (which
  // reads the file for the others), its network service and the rest; then the store
  // (Garage's process; for the embedded store, s3drop's own, which holds it).
  const byProcess = (c) =>
    ["renderer", "browser", "network", "other", "store"].map((k) => ((c[k] * 1024) / mib).toFixed(2)).join(" / ") + " s";
  for (const [label, of] of [
    ["s3drop", (r) => r.browserRun.used],
    ["plain ceiling", (r) => r.ceiling.used],
    ["read-first ceiling", (r) => r.readFirst.used],
    ["read once, sent as read", (r) => r.readOnce.used],
  ]) {
    row(`${mb(mib * MIB)}: CPU per GiB, Chromium's renderer / browser / network / other, the store: ${label}`, ...results.map((r) => byProcess(of(r))));
  }
  for (const [i, { mbit }] of results[0].throttled.entries()) {
    row(
      `${mb(mib * MIB)} at ${mbit} Mbit/s: s3drop, the plain ceiling (÷; target ≥ 0.95×)`,
      ...results.map((r) => {
        const { run, bare } = r.throttled[i];
        return `${rate(mib, run.seconds).toFixed(1)}, ${rate(mib, bare.seconds).toFixed(1)} MiB/s (${(bare.seconds / run.seconds).toFixed(2)}×)`;
      }),
    );
  }
  row(`${mb(mib * MIB)}: disk sequential write (limit)`, ...results.map((_, i) => cell(disk[mib], best[i])));
  row(`${mb(mib * MIB)}: browser JS heap, peak`, ...results.map((r) => mb(r.browserRun.heap)));
  row(`${mb(mib * MIB)}: renderer resident memory, peak`, ...results.map((r) => mb(r.browserRun.renderer)));
  row(`${mb(mib * MIB)}: Chromium CPU per GiB (renderer / all)`, ...results.map((r) => `${((r.browserRun.used.renderer * 1024) / mib).toFixed(2)} / ${((r.browserRun.used.all * 1024) / mib).toFixed(2)} s`));
  row(`${mb(mib * MIB)}: server CPU per GiB`, ...results.map((r) => `${((r.browserRun.cpu * 1024) / mib).toFixed(2)} s`));
  row(`${mb(mib * MIB)}: server resident memory, peak`, ...results.map((r) => mb(r.browserRun.server)));
}

/** Prints the table, with the machine it ran on, and writes it to BENCH_OUT. */
function finish() {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const machine = `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${new Date().toISOString().slice(0, 16)}Z`;
  const table = `Machine: ${machine}\n\n${lines.join("\n")}\n`;
  console.log(table);
  writeFileSync(process.env.BENCH_OUT, table);
}

// The page's CRC32C alone (bench/crc: the page's code and release settings), in
// Chromium: 64 MiB of random bytes, the best and the median of 9 runs, each answer
// checked against a CRC32C computed in JavaScript.
async function crcSpeed() {
  const page = await browser.newPage();
  const wasm = readFileSync(process.env.BENCH_CRC_WASM).toString("base64");
  const { answers, expected, seconds } = await page.evaluate(async ({ wasm, len }) => {
    const { instance } = await WebAssembly.instantiate(Uint8Array.from(atob(wasm), (c) => c.charCodeAt(0)));
    const { buffer, crc32c, memory } = instance.exports;
    const at = buffer(len); // may grow the memory: its buffer is read after
    const bytes = new Uint8Array(memory.buffer, at, len);
    for (let i = 0; i < len; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    const table = Array.from({ length: 256 }, (_, n) => {
      for (let k = 0; k < 8; k++) n = n & 1 ? (n >>> 1) ^ 0x82f63b78 : n >>> 1;
      return n >>> 0;
    });
    let crc = ~0;
    for (const b of bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
    const answers = [];
    const seconds = [];
    for (let run = 0; run < 9; run++) {
      const start = performance.now();
      answers.push(crc32c() >>> 0);
      seconds.push((performance.now() - start) / 1000);
    }
    return { answers, expected: ~crc >>> 0, seconds };
  }, { wasm, len: 64 * MIB });
  await page.close();
  if (answers.some((a) => a !== expected)) throw new Error(`the page's CRC32C answered ${answers} for bytes whose CRC32C is ${expected}`);
  const gibps = (s) => 64 / 1024 / s;
  seconds.sort((a, b) => a - b);
  return { best: gibps(seconds[0]), median: gibps(seconds[4]) };
}

// The page's own costs: its CRC32C's speed, its WASM, everyone's and each chunk's, and
// how soon it takes files.
async function pageRows() {
  const crc = await crcSpeed();
  row("CRC32C in the page's WASM, Chromium (64 MiB, best / median of 9): GiB/s, CPU s per GiB", `${crc.best.toFixed(2)} / ${crc.median.toFixed(2)} GiB/s, ${(1 / crc.median).toFixed(2)} s`, "(same)");
  const wasm = wasmSizes();
  const sized = (w) => `${kb(w.raw)} / ${kb(w.gzip)} / ${kb(w.brotli)}`;
  row("WASM bundle, everyone's: raw / gzip -9 / brotli -q 11", sized(wasm.page), "(same)");
  for (const chunk of wasm.chunks) {
    row(`WASM chunk ${chunk.name}, with its shared pieces (fetched only where shown): raw / gzip -9 / brotli -q 11`, sized(chunk), "(same)");
  }
  const ready = [];
  for (const store of STORES) ready.push(await timeToInteractive(browser, store));
  row("page accepts files after (median of 5)", ...ready.map((ms) => `${ms.toFixed(0)} ms`));
}

if (ONLY_BROWSER || ONLY_PAGE) {
  await pageRows();
  await browser.close();
  finish();
  process.exit(0);
}
if (!ONLY_FOLDERS) {
  const signing = [];
  for (const store of STORES) signing.push(await signatureRate(store));
  row("10,000 part signatures: server CPU", ...signing.map((s) => `${s.cpu.toFixed(2)} s`));
  row("10,000 part signatures: wall time (100 per call)", ...signing.map((s) => `${s.wall.toFixed(2)} s`));
  const loads = [];
  for (const store of STORES) loads.push(await serverFunctions(store));
  for (let i = 0; i < loads[0].length; i++) {
    const { endpoint, connections } = loads[0][i];
    row(
      `${endpoint} at ${connections} connections: p50 / p99, rate`,
      ...loads.map((l) => `${l[i].p50.toFixed(1)} / ${l[i].p99.toFixed(1)} ms, ${l[i].rate.toFixed(0)}/s${l[i].errors ? `, ${l[i].errors} errors` : ""}`),
    );
  }
}

// Folders of many small files, at 0 and 50 ms of latency, against servers with the
// default settings (rate limit included). The ideal is one PUT per file over six
// connections: ⌈N / 6⌉ round trips.
// BENCH_FOLDERS="1000" keeps only the folders of that many files.
const FOLDERS = [
  [1_000, 4096],
  [10_000, 1024],
  [200, 256 * 1024],
].filter(([count]) => !process.env.BENCH_FOLDERS || process.env.BENCH_FOLDERS.split(" ").includes(String(count)));
for (const [count, size] of FOLDERS) {
  const dir = makeFolder(count, size);
  for (const latency of [0, 50]) {
    const runs = [];
    for (const store of STORES) {
      console.error(`${store.name}, ${count} files × ${size} B at ${latency} ms`);
      runs.push(await folderUpload(browser, store, dir, count, latency));
    }
    const ideal = (Math.ceil(count / 6) * latency) / 1000;
    const label = `${count.toLocaleString("en")} files × ${size / 1024} KiB at ${latency} ms`;
    row(
      `**${label}: seconds, files/s${latency ? ", ratio to ⌈N/6⌉ × latency" : ""}**`,
      ...runs.map((r) => `**${r.seconds.toFixed(1)} s, ${(count / r.seconds).toFixed(0)}/s${latency ? ` (${(r.seconds / ideal).toFixed(2)}×)` : ""}**`),
    );
    row(`${label}: server calls per file, 429s`, ...runs.map((r) => `${r.calls.toFixed(3)}, ${r.throttled}`));
    // The same folder through an upload link, against the open drop just measured: the
    // link's turn and the record cost at most 1.15× its time.
    if (count === 1_000) {
      const linked = [];
      for (const store of STORES) {
        console.error(`${store.name}, ${count} files × ${size} B at ${latency} ms, through a link`);
        linked.push(await folderUpload(browser, store, dir, count, latency, true));
      }
      row(
        `**${label} through an upload link: seconds, ratio to the open drop (target ≤ 1.15×), calls per file**`,
        ...linked.map((r, i) => `**${r.seconds.toFixed(1)} s (${(r.seconds / runs[i].seconds).toFixed(2)}×), ${r.calls.toFixed(3)}**`),
      );
    }
    // The same folder sent by `s3drop upload` and by `aws s3 sync` (its defaults) to the
    // same store, side by side.
    if (count === 1_000 && latency === 0) {
      const cli = [];
      for (const store of STORES) {
        console.error(`${store.name}, ${count} files × ${size} B, s3drop upload and aws s3 sync`);
        const synced = awsSync(store, dir, "bench/sync");
        cli.push({ seconds: cliUpload(store.folderPage, store.folderToken, dir), synced });
      }
      row(
        `**${label}: s3drop upload, aws s3 sync (defaults): seconds, ratio**`,
        ...cli.map((r) => `**${r.seconds.toFixed(1)} s, ${r.synced.toFixed(1)} s (${(r.seconds / r.synced).toFixed(2)}×)**`),
      );
    }
    // The same folder with a webhook whose receiver answers at once, and one that takes
    // two seconds: the upload within 1.1× of the folder with none, every event delivered.
    if (count === 1_000 && latency === 0) {
      for (const delay of [0, 2_000]) {
        // Each beside a run without the hook just before it: a page's first runs are
        // slower than later ones, so the open drop measured first would flatter it.
        const hooked = [];
        const bare = [];
        for (const store of STORES) {
          console.error(`${store.name}, ${count} files × ${size} B, no webhook, then one answering in ${delay} ms`);
          bare.push(await folderUpload(browser, store, dir, count, 0));
          hooked.push(await hookedFolderUpload(browser, store, dir, count, delay));
        }
        row(
          `**${label} with a webhook answering in ${delay / 1000} s: seconds, ratio to no hook just before (target ≤ 1.1×)**`,
          ...hooked.map((r, i) => `**${r.seconds.toFixed(1)} s (${(r.seconds / bare[i].seconds).toFixed(2)}×)**`),
        );
        row(
          `… its events delivered (upload.completed, batch.completed); lag from event to answer, median / worst`,
          ...hooked.map((r) => `${r.uploads} + ${r.batches}; ${(r.lagMedian / 1000).toFixed(2)} / ${(r.lagWorst / 1000).toFixed(2)} s`),
        );
      }
    }
    row(`${label}: JS heap peak, longest main-thread task`, ...runs.map((r) => `${mb(r.heap)}, ${r.longest.toFixed(0)} ms`));
    row(
      `${label}: CPU per 1,000 files, Chromium's renderer / s3drop's server`,
      ...runs.map((r) => `${((r.rendererCpu * 1000) / count).toFixed(2)} / ${((r.serverCpu * 1000) / count).toFixed(2)} s`),
    );
  }
}

// The operator's record with 100,000 uploads recorded: the first page, and a filter by
// name, state and link, each the median of five calls, in ms (target ≤ 200).
for (const [label, filter] of [
  ["first page", {}],
  ["filtered by name", { name: "file-4242" }],
  ["filtered by state", { state: "cancelled" }],
  ["filtered by link", { link: true }],
]) {
  const times = [];
  for (const store of STORES) times.push(await recordCall(store, filter));
  row(`record of 100,000 uploads, ${label}: 50 rows, median of 5 (target ≤ 200 ms)`, ...times.map((ms) => `${ms.toFixed(1)} ms`));
}

if (!ONLY_FOLDERS) await pageRows();
await browser.close();
finish();
