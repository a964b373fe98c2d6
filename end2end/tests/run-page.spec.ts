import { expect, Page, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

// Watching a run as it works (fleet time at 600×: a 200-node upgrade takes about ten seconds).

function acceptDialogs(page: Page) {
  page.on("dialog", (dialog) => dialog.accept());
}

async function widthOf(page: Page, selector: string) {
  return Number(await page.locator(selector).first().getAttribute("width"));
}

test("a working run's page moves: ETA, elapsed time, node progress, a growing bar and a now-line; a stop says what it waits for", async ({ page, request }) => {
  test.setTimeout(120_000);
  acceptDialogs(page);
  const problems = watchConsole(page);
  const fleet = uniqueName("live");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-a`, nodes: 200 },
    { name: `${fleet}-b`, nodes: 200 },
  ]);
  const target = newestOf(minors[minors.length - 1]);
  const created = await request.put(`/api/v1/fleets/${fleet}/updateRuns/watched`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "Full", kubernetesVersion: target } } } },
  });
  expect(created.ok(), await created.text()).toBeTruthy();

  await page.goto(`/fleets/${fleet}/updates/runs/watched`);
  await waitForHydration(page);
  // Before the start: what it would take, and what it would do, one click away.
  await expect(page.getByTestId("eta")).toContainText("If started now: about");
  await page.getByTestId("remaining").locator("summary").click();
  await expect(page.getByTestId("remaining")).toContainText("2 upgrades ahead");
  await expect(page.locator(`[data-ahead="${fleet}-b"]`)).toBeVisible();

  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.getByTestId("eta")).toContainText("Expected to finish around");
  const member = page.locator(`tr[data-member="${fleet}-a"]`);
  await expect(member.getByTestId("node-progress")).toContainText(/of 200 nodes · node pool system/, { timeout: 20_000 });
  await expect(page.getByTestId("now-line")).toHaveCount(1);
  await expect(page.locator("rect.gantt-bar.planned")).toHaveCount(1);
  const running = "rect.gantt-bar.running";
  await expect(page.locator(running)).toHaveCount(1);
  await expect(page.locator(`${running} title`)).toContainText("expected to end around");
  const elapsed = await page.locator(".eta .elapsed").innerText();
  const before = await widthOf(page, running);
  await page.waitForTimeout(1500);
  expect(await widthOf(page, running), "the running bar grows with fleet time").toBeGreaterThan(before);
  expect(await page.locator(".eta .elapsed").innerText(), "elapsed time counts up").not.toEqual(elapsed);

  // Stop while a is upgrading: it finishes, and the page says so and until when.
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Stopping");
  await expect(member.locator(".state")).toHaveText("Upgrading (finishing before the stop)");
  await expect(page.getByTestId("eta")).toContainText("Stopping: the upgrades in flight should finish around");
  const reasons = page.getByTestId("why-disabled");
  await expect(reasons).toContainText("Start: The run is stopping; start it again once it has stopped.");
  await expect(reasons).toContainText("Skip: The run is stopping; skip once it has stopped.");
  await expect(page.locator("h1 .state")).toHaveText("Stopped", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Resume" })).toBeEnabled();
  await expect(page.getByTestId("eta")).toContainText("If resumed now: about");
  await expect(page.getByTestId("progress")).toHaveText("1 upgraded of 2");
  expect(problems).toEqual([]);
});

test("progress tells upgraded, skipped and failed members apart, on the run page and the Runs tab", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("tally");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-a` },
    { name: `${fleet}-b`, minorsBehind: 0 },
    { name: `${fleet}-c`, failNext: true },
  ]);
  const target = newestOf(minors[minors.length - 1]);
  await request.put(`/api/v1/fleets/${fleet}/updateRuns/tally`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "ControlPlaneOnly", kubernetesVersion: target } } } },
  });
  await request.post(`/api/v1/fleets/${fleet}/updateRuns/tally/start`);
  await expect.poll(async () => (await (await request.get(`/api/v1/fleets/${fleet}/updateRuns/tally`)).json()).properties.status.status.state,
    { timeout: 30_000 }).toBe("Failed");
  await page.goto(`/fleets/${fleet}/updates/runs/tally`);
  await waitForHydration(page);
  await expect(page.getByTestId("progress")).toHaveText("1 upgraded · 1 skipped · 1 failed of 3");
  await page.goto(`/fleets/${fleet}/updates`);
  await expect(page.locator('tr[data-run="tally"] .progress')).toContainText("1 upgraded · 1 skipped · 1 failed of 3");
  expect(problems).toEqual([]);
});

// The bundle is split at its heavier pages (app/src/ui/pages.rs): a fleet's page needs only the
// main module; the run page's own module comes beside it, named by the server in the page's
// head, and a page reached by a link loads its module then, and works.
test("each page loads only the code it needs, and a page reached by a link loads its own", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("split");
  await makeFleet(request, fleet, [{ name: `${fleet}-a` }]);
  const created = await request.put(`/api/v1/fleets/${fleet}/updateRuns/lazy`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "NodeImageOnly" } } } },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  const modules: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith(".wasm")) modules.push(path.replace("/pkg/", ""));
  });

  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  expect(modules, "the fleet's page is in the main module").toEqual(["drydock.wasm"]);

  modules.length = 0;
  await page.goto(`/fleets/${fleet}/updates/runs/lazy`);
  await waitForHydration(page);
  expect(modules).toContain("drydock.wasm");
  expect(modules.some((m) => m.startsWith("split___run_route_view")), modules.join(", ")).toBe(true);
  expect(modules.some((m) => m.startsWith("split___new_run_route_view")), "not the builder's").toBe(false);
  await expect(page.getByRole("button", { name: "Start" })).toBeEnabled();

  // Client-side navigation to the builder: its module is fetched when the link is followed.
  modules.length = 0;
  await page.goto(`/fleets/${fleet}/updates`);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Create run" }).first().click();
  await expect(page).toHaveURL(/\/updates\/new$/);
  await expect(page.getByLabel("Run name")).toBeVisible();
  expect(modules.some((m) => m.startsWith("split___new_run_route_view")), modules.join(", ")).toBe(true);
  expect(problems).toEqual([]);
});
