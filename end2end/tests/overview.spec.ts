import { expect, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

// The fleet overview as an admin works with it: group assignment at the selection, one message
// at a time, runs visible on their members, a clock that moves.

test("assignment sits with the selection, messages replace each other, and 'none' finds members without a group", async ({ page, request }) => {
  page.on("dialog", (d) => d.accept());
  const problems = watchConsole(page);
  const fleet = uniqueName("ov");
  await makeFleet(request, fleet, [
    { name: `${fleet}-a`, group: "g1" },
    { name: `${fleet}-b` },
    { name: `${fleet}-c` },
  ]);
  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  const bar = page.locator(".selection-bar");
  await expect(bar).not.toHaveClass(/sticky/);
  await page.getByLabel(`Select ${fleet}-b`).check();
  await expect(bar).toHaveClass(/sticky/);
  await expect(bar.getByRole("button", { name: "Assign update group" })).toBeEnabled();
  await bar.getByLabel("Update group", { exact: true }).fill("wave-2");
  await bar.getByRole("button", { name: "Assign update group" }).click();
  await expect(page.getByRole("status")).toHaveText("Updated 1 member(s).");
  await page.getByRole("button", { name: `Remove ${fleet}-c` }).click();
  await expect(page.getByRole("status")).toHaveText(`Removed member ${fleet}-c.`);
  await expect(page.getByText("Updated 1 member(s).")).toHaveCount(0);
  await page.getByLabel("Filter members").fill("none");
  await expect(page.locator("table.members tbody tr")).toHaveCount(0);
  // A group name no generated member name can contain ("g2" matched a name ending in "vg282").
  await page.getByLabel("Filter members").fill("wave-2");
  await expect(page.locator("table.members tbody tr")).toHaveCount(1);
  await expect(page.getByText(/Green: the newest release of its image family/)).toBeVisible();
  expect(problems).toEqual([]);
});

test("a member being upgraded shows its run; removing it warns, naming the run, and removes it only when told", async ({ page, request }) => {
  page.on("dialog", (d) => d.accept());
  const problems = watchConsole(page);
  const fleet = uniqueName("busy");
  const { minors, newestOf } = await makeFleet(request, fleet, [{ name: `${fleet}-a`, nodes: 1000 }, { name: `${fleet}-none` }]);
  const target = newestOf(minors[minors.length - 1]);
  await request.put(`/api/v1/fleets/${fleet}/updateRuns/long`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "Full", kubernetesVersion: target } } } },
  });
  await request.post(`/api/v1/fleets/${fleet}/updateRuns/long/start`);
  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  const row = page.locator(`tr[data-member="${fleet}-a"]`);
  await expect(row.getByRole("link", { name: "Upgrading · long" })).toHaveAttribute("href", `/fleets/${fleet}/updates/runs/long`);
  await page.getByRole("button", { name: `Remove ${fleet}-a` }).click();
  const warning = page.locator(".warning");
  await expect(warning).toContainText("is being upgraded by update run long");
  await expect(row).toBeVisible();
  await warning.getByRole("button", { name: `Remove ${fleet}-a anyway` }).click();
  await expect(page.getByRole("status")).toHaveText(`Removed member ${fleet}-a.`);
  await expect(row).toHaveCount(0);
  await page.getByLabel("Filter members").fill("none");
  await expect(page.locator("table.members tbody tr")).toHaveCount(1);
  // The browser logs the refused removal (409) itself; nothing else may go wrong.
  expect(problems.filter((p) => !p.includes("status of 409"))).toEqual([]);
});

test("fleet time and window countdowns move; times are local with UTC on hover; a fleet that is not there is a 404", async ({ page, request }) => {
  await page.goto("/fleets/demo");
  await waitForHydration(page);
  const clock = page.getByTestId("fleet-time");
  const first = await clock.innerText();
  const countdown = page.locator(".countdown-window").first();
  const before = await countdown.innerText();
  // Fleet time runs 600× here: ten fleet minutes a second.
  await expect.poll(async () => await clock.innerText(), { timeout: 5_000 }).not.toEqual(first);
  await expect.poll(async () => await countdown.innerText(), { timeout: 10_000 }).not.toEqual(before);
  expect(first).not.toContain("UTC");

  const fleet = uniqueName("tz");
  await makeFleet(request, fleet, [{ name: `${fleet}-a` }]);
  await request.put(`/api/v1/fleets/${fleet}/updateRuns/r`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "NodeImageOnly" } } } },
  });
  await request.post(`/api/v1/fleets/${fleet}/updateRuns/r/start`);
  await page.goto(`/fleets/${fleet}/updates/runs/r`);
  await waitForHydration(page);
  const started = page.locator(".summary time").first();
  await expect(started).toHaveAttribute("title", /Z \(UTC\)$/);
  await expect(started).toHaveAttribute("datetime", /Z$/);

  const missing = await page.goto("/fleets/nowhere");
  expect(missing!.status()).toBe(404);
  await expect(page.getByRole("alert")).toContainText("Fleet nowhere does not exist");
});

test("each member names its provider; one the provider cannot reach shows a warning and what was last seen", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("far");
  await makeFleet(request, fleet, [{ name: `${fleet}-a` }, { name: `${fleet}-b` }]);
  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  const row = page.locator(`tr[data-member="${fleet}-a"]`);
  await expect(row.locator(".provider-tag")).toHaveText("sim");
  await expect(row.locator(".warn-badge")).toHaveCount(0);
  const cluster = await (await request.get(`/api/v1/simulator/clusters/${fleet}-a`)).json();
  expect((await request.put(`/api/v1/simulator/clusters/${fleet}-a`, { data: { ...cluster, unreachable: true } })).ok()).toBeTruthy();
  await page.reload();
  await waitForHydration(page);
  await expect(row.locator(".warn-badge")).toHaveText("⚠ Last observation failed");
  await expect(row).toContainText("unreachable");
  await expect(row).toContainText("showing what was last seen");
  await expect(row.locator("td.cp")).toContainText(cluster.kubernetesVersion);
  await expect(page.locator(`tr[data-member="${fleet}-b"] .warn-badge`)).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("the API link in the header opens the REST API's description, every operation with its schemas", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("link", { name: "API", exact: true }).click();
  await expect(page).toHaveURL(/\/api\/docs$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Drydock REST API");
  const create = page.locator("tr#createUpdateRun");
  await expect(create).toContainText("/fleets/{fleet}/updateRuns/{run}");
  await create.getByRole("link", { name: "PutRunPropertiesBody" }).click();
  await expect(page.locator("details#schema-PutRunPropertiesBody")).toBeVisible();
  const document = await (await page.request.get("/api/v1/openapi.json")).json();
  expect(document.openapi).toBe("3.1.0");
});
