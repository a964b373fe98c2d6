import { expect, test, type Page } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { rmSync, mkdirSync } from "node:fs";
import { readsSettle, waitForHydration, watchConsole } from "./helpers";

// A 100,000-member fleet (5 stages × 100 groups) and its run, set up by `drydock bench
// --set-up-only` and served by the build users run (`scripts/dev` passes the release binary as
// DRYDOCK_RELEASE_BIN; without it the suite's own binary, slower). The timings are printed for
// the README on every run, never asserted: these machines are shared and noisy.
const bin = process.env.DRYDOCK_RELEASE_BIN ?? process.env.DRYDOCK_BIN ?? "target/debug/drydock";
const members = Number(process.env.DRYDOCK_E2E_LARGE_MEMBERS ?? 100_000);
const port = Number(process.env.DRYDOCK_E2E_PORT ?? 3100) + 3;
const base = `http://127.0.0.1:${port}`;
const dir = "../target/e2e-100k";

/** Seconds from `started`, for the printed line. */
const since = (started: number) => ((Date.now() - started) / 1000).toFixed(2);

function setUp(): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const said = execFileSync(bin.startsWith("/") ? bin : `../${bin}`, [
    "bench", "--members", String(members), "--stages", "5", "--groups-per-stage", "100",
    "--database", `${dir}/bench.db`, "--set-up-only",
  ], { encoding: "utf8", timeout: 600_000 });
  return said.trim();
}

async function serve(): Promise<ChildProcess> {
  const server = spawn(bin, [
    "serve", "--addr", `127.0.0.1:${port}`, "--database-url", "sqlite://target/e2e-100k/bench.db",
    "--auth", "none", "--time-scale", "600",
  ], { cwd: "..", stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 600; i++) {
    const up = await fetch(`${base}/api/v1/fleets`).then((r) => r.ok, () => false);
    if (up) return server;
    await new Promise((done) => setTimeout(done, 100));
  }
  server.kill();
  throw new Error("the 100,000-member server did not answer within a minute");
}

async function loadToHydrated(page: Page, path: string): Promise<string> {
  const started = Date.now();
  await page.goto(`${base}${path}`);
  await waitForHydration(page);
  return since(started);
}

/** Waits for the next member of the open group to start (or start and finish); `true` when no read of the run or
 * of its members happened meanwhile (the change came from the event stream alone). */
async function nextStartArrivesLive(page: Page, group: string, reads: string[]): Promise<boolean> {
  const rows = page.locator(`li[data-group="${group}"] tr[data-member]`);
  // Reads the start asked for (or a periodic one) come and go first.
  await readsSettle(page, reads, 30_000);
  const readsBefore = reads.length;
  const next = (await rows.locator(".state").allInnerTexts()).indexOf("Not started");
  expect(next, "a member still to go on the first page").toBeGreaterThan(0);
  // A short upgrade may start and finish within one batch of the stream: the page then shows
  // its end at once. Either way the change reached the page live.
  await expect(rows.nth(next).locator(".state")).toHaveText(/^(Running|Completed)$/, { timeout: 20_000 });
  return reads.length === readsBefore;
}

test("100,000 members: the overview and the run page load, a group opens and a member's start arrives live", async ({ browser }) => {
  test.setTimeout(900_000);
  const setUpStarted = Date.now();
  const said = setUp();
  console.log(`${members} members: ${said} (${since(setUpStarted)} s with the process)`);
  const server = await serve();
  try {
    // The suite signs in; this server has no sign-in.
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    const problems = watchConsole(page);

    const overviewS = await loadToHydrated(page, "/fleets/bench");
    await expect(page.getByText(`Showing 100 of ${members} members`)).toBeVisible();
    await expect(page.locator("table.members tbody tr")).toHaveCount(100);
    const againS = await loadToHydrated(page, "/fleets/bench");

    const runS = await loadToHydrated(page, "/fleets/bench/updates/runs/bench");
    await expect(page.getByTestId("progress")).toContainText(`of ${members}`);
    await expect(page.locator(".group details[open]"), "a large run starts with its groups folded").toHaveCount(0);

    const reads: string[] = [];
    page.on("request", (r) => {
      if (/\/fn\/run_(outline|members)/.test(r.url())) reads.push(r.url());
    });
    const started = await context.request.post(`${base}/api/v1/fleets/bench/updateRuns/bench/start`);
    expect(started.ok(), await started.text()).toBeTruthy();
    const group = page.locator('li[data-group="g0"]');
    await group.locator("summary").click();
    // The group's first page is read while the server takes the 100,000-member run up (it was
    // just started): on a loaded machine that has taken over 5 s once.
    await expect(group.locator("tbody tr")).toHaveCount(100, { timeout: 15_000 });
    await expect(group.getByTestId("member-pager")).toContainText(`Members 1–100 of ${members / 500}`);
    await expect(group.locator("tr[data-member] .state").first()).not.toHaveText("Not started", { timeout: 30_000 });

    // The page reads the run again every 15 s while member events stream in; a start that
    // lands in such a read's wake is tried again, up to three times.
    const waiting = Date.now();
    let live = false;
    for (let attempt = 0; attempt < 3 && !live; attempt++) {
      live = await nextStartArrivesLive(page, "g0", reads);
    }
    expect(live, "a member's start is patched in from the event stream, with no read of the run").toBe(true);
    console.log(
      `${members} members: overview load to hydrated ${overviewS} s (again ${againS} s), ` +
      `run page ${runS} s, a member's start seen live after ${since(waiting)} s of waiting`,
    );
    await context.request.post(`${base}/api/v1/fleets/bench/updateRuns/bench/stop`);
    expect(problems).toEqual([]);
    await context.close();
  } finally {
    server.kill("SIGTERM");
  }
});
