import { test, expect } from "@playwright/test";
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { fileRow, openPage, pickGeneratedFiles, scratchDir, screenshotPath, seriousViolations } from "./helpers";
import { freePort, kill, startServer } from "./own-server";

// Webhooks and the pre-start hook, seen from the page: the operator adds a webhook on
// the page (its secret shown once), drops files of which the pre-start hook refuses one
// (the page shows the hook's reason; the others go), and the receiver gets each stored
// file and the finished drop, signed; the operator's page shows the deliveries.
//
// A server of its own (the pre-start hook is a setting), with the embedded store, and a
// receiver in this process that checks signatures with Node's own HMAC.

const PASSWORD = "hooks operator password";
const PRE_START_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

interface Got {
  path: string;
  id: string;
  verified: boolean;
  body: { type: string; data: Record<string, unknown> };
}

/** A receiver: `/hook` takes deliveries, `/pre-start` refuses files named `*.exe`. */
async function startReceiver(port: number, secrets: { hook?: string }): Promise<{ server: Server; got: Got[] }> {
  const got: Got[] = [];
  const read = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const verify = (secret: string | undefined, request: IncomingMessage, body: Buffer) => {
    if (!secret) return false;
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const id = String(request.headers["webhook-id"]);
    const timestamp = String(request.headers["webhook-timestamp"]);
    const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
    return String(request.headers["webhook-signature"]).split(" ").includes(`v1,${expected}`);
  };
  const server = createServer(async (request, response) => {
    const body = await read(request);
    const secret = request.url === "/pre-start" ? PRE_START_SECRET : secrets.hook;
    const entry: Got = {
      path: request.url ?? "",
      id: String(request.headers["webhook-id"]),
      verified: verify(secret, request, body),
      body: JSON.parse(body.toString("utf8")),
    };
    got.push(entry);
    if (!entry.verified) return response.writeHead(401).end();
    if (request.url === "/pre-start") {
      const files = (entry.body.data.files as { name: string }[]).map((file) =>
        file.name.endsWith(".exe") ? { accept: false, reason: "no programs, please" } : { accept: true },
      );
      return response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ files }));
    }
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { server, got };
}

test("a webhook added on the page hears each stored file and the drop; the pre-start hook's refusal is shown", async ({
  page,
}) => {
  const [port, receiverPort] = [await freePort(), await freePort()];
  const secrets: { hook?: string } = {};
  const receiver = await startReceiver(receiverPort, secrets);
  const server = await startServer(port, scratchDir("hooks-server"), {
    args: [
      "--access-password", PASSWORD,
      "--pre-start-hook", `http://127.0.0.1:${receiverPort}/pre-start`,
      "--pre-start-secret", PRE_START_SECRET,
      "--hook-retry-first", "1",
    ],
  });
  try {
    const origin = `http://localhost:${port}`;
    await page.goto(`${origin}/login`);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await openPage(page, `${origin}/`);

    const form = page.getByTestId("hook-form");
    await form.getByLabel("Receiver's URL").fill(`http://127.0.0.1:${receiverPort}/hook`);
    await form.getByRole("button", { name: "Add webhook" }).click();
    secrets.hook = await page.getByTestId("new-hook-secret").inputValue();
    expect(secrets.hook).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const row = page.getByTestId("hook-row");
    await expect(row).toContainText("Every link and drop");

    await pickGeneratedFiles(page, [
      { name: "notes.txt", size: 2_000 },
      { name: "setup.exe", size: 3_000 },
      { name: "photo.jpg", size: 50_000 },
    ]);
    await expect(fileRow(page, "setup.exe")).toHaveAttribute("data-state", "failed");
    await expect(fileRow(page, "setup.exe")).toContainText("no programs, please");
    for (const name of ["notes.txt", "photo.jpg"]) {
      await expect(fileRow(page, name)).toHaveAttribute("data-state", "done");
    }

    await expect.poll(() => receiver.got.filter((g) => g.path === "/hook").length, { timeout: 20_000 }).toBe(3);
    const hooked = receiver.got.filter((g) => g.path === "/hook");
    expect(hooked.every((g) => g.verified), "each delivery is signed with the hook's secret").toBe(true);
    const stored = hooked.filter((g) => g.body.type === "upload.completed").map((g) => g.body.data.name);
    expect(stored.sort()).toEqual(["notes.txt", "photo.jpg"]);
    const drop = hooked.find((g) => g.body.type === "batch.completed")!.body.data;
    expect([drop.files, drop.stored, drop.refused]).toEqual([3, 2, 1]);
    const asked = receiver.got.filter((g) => g.path === "/pre-start");
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((g) => g.verified)).toBe(true);

    // The operator's page shows how the deliveries went.
    await expect(row).toContainText("3 delivered", { timeout: 10_000 });
    await row.getByRole("button", { name: "Deliveries" }).click();
    const deliveries = row.getByTestId("delivery");
    await expect(deliveries).toHaveCount(3);
    await expect(deliveries.filter({ hasText: "batch.completed" })).toContainText("delivered");
    expect(await seriousViolations(page), "the operator's page with webhooks").toEqual([]);
    await page.getByTestId("hooks-panel").screenshot({ path: screenshotPath("hooks.png") });

    // Sent again from the page: the receiver gets it under the same webhook-id.
    const first = hooked.find((g) => g.body.type === "batch.completed")!;
    await deliveries.filter({ hasText: "batch.completed" }).getByRole("button", { name: "Send again" }).click();
    await expect.poll(() => receiver.got.filter((g) => g.id === first.id).length, { timeout: 20_000 }).toBe(2);
  } finally {
    await kill(server);
    receiver.server.close();
  }
});
