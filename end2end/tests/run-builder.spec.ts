import { expect, Page, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

// The seeds' portal flows, done in the browser against a real server (fleet time at 600×).

/** Accepts the confirmation dialogs Stop and Skip ask for. */
function acceptDialogs(page: Page) {
  page.on("dialog", (dialog) => dialog.accept());
}

async function openBuilder(page: Page, fleet: string, query = "") {
  await page.goto(`/fleets/${fleet}/updates/new${query}`);
  await waitForHydration(page);
}

test("a one-by-one run is created, started and watched to completion", async ({ page, request }) => {
  test.setTimeout(120_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("obo");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-a`, minorsBehind: 2 },
    { name: `${fleet}-b`, minorsBehind: 2 },
    { name: `${fleet}-c`, minorsBehind: 2 },
  ]);
  const target = newestOf(minors[minors.length - 2]);

  await page.goto(`/fleets/${fleet}/updates`);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Create run" }).click();
  await expect(page.getByRole("heading", { name: "Create an update run" })).toBeVisible();
  await waitForHydration(page);
  await page.getByLabel("Run name", { exact: true }).fill("first-run");
  await page.getByLabel("One by one", { exact: true }).check();
  await page.getByLabel("Kubernetes version", { exact: true }).selectOption(target);
  const preview = page.locator(".preview");
  await expect(preview.getByTestId("plan-summary")).toContainText("3 members to upgrade");
  await expect(preview.locator(".plan-member").first()).toContainText(`→ ${target}`);
  await page.getByRole("button", { name: "Create run" }).click();

  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/first-run$`));
  await expect(page.getByRole("heading", { name: /Update run first-run/ })).toContainText("Not started");
  await expect(page.getByRole("button", { name: "Stop" })).toBeDisabled();
  await page.getByRole("button", { name: "Start" }).click();
  // Live: the page follows the run's events without a reload.
  await expect(page.locator("h1 .state")).toHaveText("Running");
  await expect(page.locator(`tr[data-member="${fleet}-a"] .state`)).toHaveText(/Running|Completed/);
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 90_000 });
  for (const m of ["a", "b", "c"]) {
    await expect(page.locator(`tr[data-member="${fleet}-${m}"] .state`)).toHaveText("Completed");
  }
  await expect(page.locator(".run-progress")).toContainText("3 upgraded of 3");
  await expect(page.locator(".gantt rect.gantt-bar.done")).toHaveCount(3);
  await expect(page.getByRole("button", { name: "Start" })).toBeDisabled();

  // Opened again, the page follows the event stream from the run's newest event: the finished
  // run's history is not sent to it again.
  const stream = page.waitForRequest(/\/events\?after=\d+$/);
  await page.reload();
  await waitForHydration(page);
  const after = Number(new URL((await stream).url()).searchParams.get("after"));
  const timeline = await (await request.get(`/api/v1/fleets/${fleet}/updateRuns/first-run/timeline?limit=10000`)).json();
  expect(after).toBeGreaterThan(0);
  expect(after).toBe(timeline.nextAfter);
  await expect(page.locator("h1 .state")).toHaveText("Completed");
  expect(problems).toEqual([]);
});

test("stages built in the builder become a strategy; a run from it is started, skipped in part, stopped, resumed and finished", async ({ page, request }) => {
  test.setTimeout(150_000);
  acceptDialogs(page);
  const problems = watchConsole(page);
  const fleet = uniqueName("staged");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-c1`, group: "canary", minorsBehind: 2 },
    { name: `${fleet}-p1`, group: "prod-east", minorsBehind: 2 },
    { name: `${fleet}-p2`, group: "prod-east", minorsBehind: 2 },
    { name: `${fleet}-w1`, group: "prod-west", minorsBehind: 2 },
    { name: `${fleet}-x1`, minorsBehind: 2 },
  ]);
  const target = newestOf(minors[minors.length - 2]);

  await page.goto(`/fleets/${fleet}/updates?tab=strategies`);
  await waitForHydration(page);
  await page.getByRole("link", { name: "New strategy" }).click();
  await waitForHydration(page);
  // A strategy page: about the strategy, not a run.
  await expect(page.getByRole("heading", { name: "New update strategy" })).toBeVisible();
  await expect(page.getByLabel("Run name", { exact: true })).toHaveCount(0);
  // Stage 1 (created for us) takes the production groups; stage 2 the canary, then they swap.
  const editors = page.locator(".stage-editor");
  await editors.nth(0).getByLabel("Stage name", { exact: true }).fill("production");
  await editors.nth(0).getByLabel("prod-east", { exact: true }).check();
  await editors.nth(0).getByLabel("prod-west", { exact: true }).check();
  await page.getByRole("button", { name: "Add stage" }).click();
  await expect(editors.nth(1).getByLabel("prod-east", { exact: true }), "a group is offered to one stage only").toHaveCount(0);
  await editors.nth(1).getByLabel("Stage name", { exact: true }).fill("canary");
  await editors.nth(1).getByLabel("Wait after the stage", { exact: true }).fill("60");
  await expect(editors.nth(1).getByLabel("Unit of the wait")).toHaveValue("minutes");
  await editors.nth(1).getByLabel("canary", { exact: true }).check();
  await page.getByRole("button", { name: "Move stage canary up" }).click();
  await expect(editors.nth(0).getByLabel("Stage name", { exact: true })).toHaveValue("canary");

  const preview = page.locator(".preview");
  await expect(preview.locator(".plan-stage").nth(0)).toContainText("Stage canary");
  await expect(preview.locator(".plan-stage").nth(0)).toContainText("then waits 1h 0m");
  await expect(preview.locator(".plan-stage").nth(1)).toContainText("Stage production");
  await expect(preview.locator(".not-in-stage")).toContainText(`${fleet}-x1`);

  // Export shows the seeds' shape.
  await page.getByText("Import or export the stages as JSON").click();
  await page.getByRole("button", { name: "Export" }).click();
  const exported = JSON.parse(await page.getByLabel(/Stages in the shape of/).inputValue());
  expect(exported.stages.map((s: any) => s.name)).toEqual(["canary", "production"]);
  expect(exported.stages[0].afterStageWaitInSeconds).toBe(3600);

  await page.getByLabel("Strategy name", { exact: true }).fill("canary-first");
  await page.getByRole("button", { name: "Save strategy" }).click();
  await expect(page.getByText("Saved strategy canary-first.")).toBeVisible();

  // Create a run from the stored strategy.
  await page.goto(`/fleets/${fleet}/updates?tab=strategies`);
  await waitForHydration(page);
  await expect(page.locator('li[data-strategy="canary-first"]')).toContainText("canary: canary · then wait 1h 0m");
  await page.getByRole("link", { name: "Create a run from strategy canary-first" }).click();
  await waitForHydration(page);
  await expect(page.getByLabel("Copy from an existing strategy", { exact: true })).toBeChecked();
  await page.getByLabel("Run name", { exact: true }).fill("staged-run");
  await page.getByLabel("Kubernetes version", { exact: true }).selectOption(target);
  await expect(preview.getByTestId("plan-summary")).toContainText("4 members to upgrade");
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(/\/updates\/runs\/staged-run$/);
  await expect(page.locator(".summary").first()).toContainText("from strategy canary-first");

  // Skip prod-west before it starts; start; stop during the canary wait; resume; finish.
  await page.getByRole("button", { name: "Skip group prod-west" }).click();
  await expect(page.locator('li[data-group="prod-west"] .state').first()).toHaveText("Skipped");
  await expect(page.locator('li[data-group="prod-west"] details'), "skipping does not fold the group").toHaveAttribute("open", "");
  await expect(page.getByRole("button", { name: "Skip group prod-west" }), "a finished group offers no Skip").toHaveCount(0);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.locator('[data-wait="canary"] .state')).toHaveText("Running", { timeout: 60_000 });
  await expect(page.locator('[data-wait="canary"] .countdown')).toContainText("left");
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Stopped");
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Running");
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 90_000 });
  await expect(page.locator(`tr[data-member="${fleet}-w1"] .state`)).toHaveText("Skipped");
  await expect(page.locator(`tr[data-member="${fleet}-p2"] .state`)).toHaveText("Completed");
  expect(problems).toEqual([]);
});

test("a run that fails shows why and is retried to completion", async ({ page, request }) => {
  test.setTimeout(120_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("fail");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-a`, minorsBehind: 2, failNext: true },
    { name: `${fleet}-b`, minorsBehind: 2 },
  ]);
  const target = newestOf(minors[minors.length - 2]);
  const created = await request.put(`/api/v1/fleets/${fleet}/updateRuns/flaky`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "ControlPlaneOnly", kubernetesVersion: target } } } },
  });
  expect(created.ok(), await created.text()).toBeTruthy();

  await page.goto(`/fleets/${fleet}/updates/runs/flaky`);
  await waitForHydration(page);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Failed", { timeout: 60_000 });
  const failed = page.locator(`tr[data-member="${fleet}-a"]`);
  await expect(failed.locator(".state")).toHaveText("Failed");
  await expect(failed.locator("td").nth(1), "the failure says why").not.toBeEmpty();
  await expect(page.locator(`tr[data-member="${fleet}-b"] .state`), "nothing after a failure starts").toHaveText("Not started");
  await page.getByRole("button", { name: "Retry failed members" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 90_000 });
  await expect(failed.locator(".state")).toHaveText("Completed");
  expect(problems).toEqual([]);
});

test("the plan preview shows a member that would skip a minor version as blocked", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("skew");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-old`, minorsBehind: 3 },
    { name: `${fleet}-ok`, minorsBehind: 2 },
    { name: `${fleet}-done`, minorsBehind: 1 },
  ]);
  const target = newestOf(minors[minors.length - 2]);
  await openBuilder(page, fleet);
  await page.getByLabel("Kubernetes version", { exact: true }).selectOption(target);
  const old = page.locator(`.plan-member[data-member="${fleet}-old"]`);
  await expect(old.locator(".outcome")).toHaveText("Blocked");
  await expect(old).toContainText("would skip minor version");
  await expect(page.locator(`.plan-member[data-member="${fleet}-ok"] .outcome`)).toHaveText("Upgrade");
  const done = page.locator(`.plan-member[data-member="${fleet}-done"]`);
  await expect(done.locator(".outcome"), "its node images are still old").toHaveText("Upgrade");
  await expect(done).not.toContainText("control plane");
  await expect(page.locator(".warnings")).toContainText(`${fleet}-old will fail`);
  // Control plane only, node image only: the preview follows every change without a round trip.
  await page.getByLabel("Control plane only", { exact: true }).check();
  await expect(done.locator(".outcome")).toHaveText("Skipped");
  await expect(done).toContainText("control plane already at Kubernetes");
  await page.getByLabel("Node image only", { exact: true }).check();
  await expect(page.getByLabel("Kubernetes version", { exact: true }), "no version for node images only").toHaveCount(0);
  await expect(old.locator(".outcome")).toHaveText("Upgrade");
  expect(problems).toEqual([]);
});

test("a member three minors behind goes through each minor when the run takes hops", async ({ page, request }) => {
  test.setTimeout(120_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("hops");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-old`, minorsBehind: 3 },
    { name: `${fleet}-ok`, minorsBehind: 1 },
  ]);
  const target = newestOf(minors[minors.length - 1]);
  await openBuilder(page, fleet);
  await page.getByLabel("Run name", { exact: true }).fill("hops-run");
  await page.getByLabel("Kubernetes version", { exact: true }).selectOption(target);
  const old = page.locator(`.plan-member[data-member="${fleet}-old"]`);
  await expect(old.locator(".outcome")).toHaveText("Blocked");
  await expect(old).toContainText("would skip minor version");
  await page.getByLabel("Members more than one minor version behind").selectOption("PerMember");
  await expect(old.locator(".outcome")).toHaveText("Upgrade");
  await expect(old).toContainText("hop 1 of 3: control plane");
  await expect(old).toContainText(`hop 3 of 3: control plane ${newestOf(minors[minors.length - 2])} → ${target}`);
  await expect(page.getByTestId("plan-summary")).toContainText("2 members (1 through several minor versions) to upgrade");
  await page.getByRole("button", { name: "Create run" }).click();

  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/hops-run$`));
  await page.getByRole("button", { name: "Start" }).click();
  const row = page.locator(`tr[data-member="${fleet}-old"]`);
  // Its turn comes after ok's (by name); the row says which hop it is on.
  await expect(row).toContainText(/hop [123] of 3: Kubernetes/, { timeout: 60_000 });
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 90_000 });
  await expect(row.locator(".state")).toHaveText("Completed");
  const cluster = await (await request.get(`/api/v1/simulator/clusters/${fleet}-old`)).json();
  expect(cluster.kubernetesVersion).toBe(target);
  const operations = (await (await request.get("/api/v1/simulator/operations")).json()).value
    .filter((op: { cluster: string }) => op.cluster === `sim:${fleet}-old`);
  expect(operations.map((op: { target: { controlPlane: { to: string } } }) => op.target.controlPlane.to)).toEqual([
    newestOf(minors[minors.length - 3]), newestOf(minors[minors.length - 2]), target,
  ]);
  expect(problems).toEqual([]);
});

test("a run waits for releases to reach members' regions as long as the builder says, in hours", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("defer");
  await makeFleet(request, fleet, [{ name: `${fleet}-a`, minorsBehind: 1 }]);
  await openBuilder(page, fleet);
  await page.getByLabel("Run name", { exact: true }).fill("waits");
  const wait = page.getByLabel("Wait for a release to reach a member's region (hours)");
  await wait.fill("forever");
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(wait).toBeFocused();
  await expect(wait).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#defer-hours ~ .field-error")).toContainText("at most 720 (30 days)");
  expect((await request.get(`/api/v1/fleets/${fleet}/updateRuns/waits`)).status(), "nothing was created").toBe(404);
  await wait.fill("1.5");
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/waits$`));
  const run = await (await request.get(`/api/v1/fleets/${fleet}/updateRuns/waits`)).json();
  expect(run.properties.managedClusterUpdate.deferUntilAvailable).toEqual({ maxWaitInSeconds: 5400 });
  expect(problems).toEqual([]);
});

test("a fleet two minors behind goes one minor at a time, a run of the strategy per minor", async ({ page, request }) => {
  test.setTimeout(150_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("pass");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-old`, minorsBehind: 2 },
    { name: `${fleet}-ok`, minorsBehind: 1 },
  ]);
  const target = newestOf(minors[minors.length - 1]);
  const between = newestOf(minors[minors.length - 2]);
  await openBuilder(page, fleet);
  await page.getByLabel("Run name", { exact: true }).fill("passes");
  await page.getByLabel("Kubernetes version", { exact: true }).selectOption(target);
  await page.getByLabel("Members more than one minor version behind").selectOption("PerStrategyPass");
  const passes = page.getByTestId("plan-passes").locator("li");
  await expect(passes).toHaveCount(2);
  await expect(passes.nth(0)).toContainText(`to ${minors[minors.length - 2]}: 1 member to upgrade`);
  await expect(passes.nth(1)).toContainText(`to ${target}: 2 members to upgrade`);
  const ok = page.locator(`.plan-member[data-member="${fleet}-ok"]`);
  await expect(ok).toContainText(`later passes: ${target}`);
  await page.getByRole("button", { name: "Create run" }).click();

  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/passes$`));
  await expect(page.getByTestId("pass")).toContainText("Pass 1 of 2 of the whole strategy");
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 60_000 });
  // The server creates and starts the next pass when this one completes.
  await expect.poll(async () => (await request.get(`/api/v1/fleets/${fleet}/updateRuns/passes-hop-2`)).status()).toBe(200);
  await page.getByTestId("pass").getByRole("link", { name: "passes-hop-2" }).click();
  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/passes-hop-2$`));
  await expect(page.getByTestId("pass")).toContainText("Pass 2 of 2");
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 60_000 });
  const operations = (await (await request.get("/api/v1/simulator/operations")).json()).value
    .filter((op: { cluster: string }) => op.cluster === `sim:${fleet}-old`);
  expect(operations.map((op: { target: { controlPlane: { to: string } } }) => op.target.controlPlane.to)).toEqual([between, target]);
  expect(problems).toEqual([]);
});

test("a strategy is edited (its runs keep the old stages), imported into, and deleted", async ({ page, request }) => {
  acceptDialogs(page);
  const problems = watchConsole(page);
  const fleet = uniqueName("edit");
  await makeFleet(request, fleet, [
    { name: `${fleet}-a`, group: "first" },
    { name: `${fleet}-b`, group: "second" },
  ]);
  const strategy = { stages: [{ name: "one", groups: [{ name: "first" }], afterStageWaitInSeconds: 3600 }, { name: "two", groups: [{ name: "second" }] }] };
  expect((await request.put(`/api/v1/fleets/${fleet}/updateStrategies/plan-a`, { data: { properties: { strategy } } })).ok()).toBeTruthy();
  expect((await request.put(`/api/v1/fleets/${fleet}/updateRuns/before-edit`, {
    data: { properties: { updateStrategyId: "plan-a", managedClusterUpdate: { upgrade: { type: "NodeImageOnly" } } } },
  })).ok()).toBeTruthy();

  await page.goto(`/fleets/${fleet}/updates?tab=strategies`);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Edit strategy plan-a" }).click();
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Edit strategy plan-a" })).toBeVisible();
  await expect(page.getByLabel("Strategy name", { exact: true })).toHaveValue("plan-a");
  const editors = page.locator(".stage-editor");
  await expect(editors).toHaveCount(2);
  // Its hour-long wait reads as 1 hour; make it a minute.
  const wait = editors.nth(0).getByLabel("Wait after the stage", { exact: true });
  await expect(wait).toHaveValue("1");
  await expect(editors.nth(0).getByLabel("Unit of the wait")).toHaveValue("hours");
  await editors.nth(0).getByLabel("Unit of the wait").selectOption("minutes");
  await page.getByRole("button", { name: "Save strategy" }).click();
  await expect(page.getByText("Saved strategy plan-a.")).toBeVisible();
  // Saved under another stored strategy's name, it asks before replacing that one.
  expect((await request.put(`/api/v1/fleets/${fleet}/updateStrategies/plan-b`, { data: { properties: { strategy } } })).ok()).toBeTruthy();
  await page.reload();
  await waitForHydration(page);
  await page.getByLabel("Strategy name", { exact: true }).fill("plan-b");
  const asked = page.waitForEvent("dialog");
  await page.getByRole("button", { name: "Save strategy" }).click();
  expect((await asked).message()).toContain("already has an update strategy named plan-b. Replace it?");
  await expect(page.getByText("Saved strategy plan-b.")).toBeVisible();

  // Importing replaces the stages; a broken document changes nothing and says why.
  await page.getByText("Import or export the stages as JSON").click();
  const box = page.getByLabel(/Stages in the shape of/);
  await box.fill('{"stages": "everything"}');
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("alert")).toContainText("not a stages document");
  await expect(editors).toHaveCount(2);
  await box.fill('{"stages": [{"name": "broken"}]}');
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("alert")).toContainText("stage broken has no update groups and no memberSelector");
  await expect(editors).toHaveCount(2);
  await box.fill(JSON.stringify({ stages: [{ name: "everything", groups: [{ name: "first" }, { name: "second" }] }] }));
  await page.getByRole("button", { name: "Import" }).click();
  await expect(editors).toHaveCount(1);
  await expect(editors.nth(0).getByLabel("Stage name", { exact: true })).toHaveValue("everything");
  await expect(page.locator(".preview .plan-stage")).toHaveCount(1);

  await page.goto(`/fleets/${fleet}/updates?tab=strategies`);
  await waitForHydration(page);
  await expect(page.locator('li[data-strategy="plan-a"]')).toContainText("one: first · then wait 1m");
  await page.goto(`/fleets/${fleet}/updates/runs/before-edit`);
  await waitForHydration(page);
  await expect(page.locator('[data-wait="one"]'), "the run keeps the stages it was created with").toContainText("Wait 1 h after the stage");

  await page.goto(`/fleets/${fleet}/updates?tab=strategies`);
  await waitForHydration(page);
  for (const name of ["plan-a", "plan-b"]) {
    await page.getByRole("button", { name: `Delete strategy ${name}` }).click();
    await expect(page.locator(`li[data-strategy="${name}"]`)).toHaveCount(0);
  }
  await page.reload();
  await expect(page.getByText("No strategies yet")).toBeVisible();
  expect(problems).toEqual([]);
});
