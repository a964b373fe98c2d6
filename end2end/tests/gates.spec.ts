import { expect, Page, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

// Concurrency, failure budgets and gates in the browser (fleet time at 600×).

test("the stage builder takes concurrency and budgets, explains them, and the preview shows the batches", async ({ page, request }) => {
  test.setTimeout(90_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("batch");
  const { minors, newestOf } = await makeFleet(request, fleet, [1, 2, 3, 4].map((i) => ({ name: `${fleet}-m${i}`, group: "wave" })));
  const target = newestOf(minors[minors.length - 1]);

  await page.goto(`/fleets/${fleet}/updates/new`);
  await waitForHydration(page);
  await page.getByLabel("Run name", { exact: true }).fill("batched");
  await page.getByLabel("Kubernetes version", { exact: true }).selectOption(target);
  await page.getByRole("radio", { name: "Stages", exact: true }).check();
  const stage = page.locator(".stage-editor").first();
  await stage.getByLabel("wave", { exact: true }).check();
  const preview = page.locator(".preview");
  await expect(preview.locator(".plan-group").first()).toContainText("4 upgrades in 4 batches, up to 1 at once");

  await stage.getByText("Concurrency and failure budget").click();
  await expect(stage.locator(".limits")).toContainText("a percentage of the members (rounded down, at least 1)");
  await stage.getByLabel("Members at once in group wave").fill("50%");
  await stage.getByLabel("Failures group wave allows").fill("1");
  await expect(preview.locator(".plan-group").first()).toContainText("4 upgrades in 2 batches, up to 2 at once; fails past 1 failed member");

  await stage.getByLabel("Members at once in the stage").fill("0");
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page.getByText("The stage: at once takes a whole number from 1, or a percentage from 1% to 100%.")).toBeVisible();
  await stage.getByLabel("Members at once in the stage").fill("");

  await page.getByText("Import or export the stages as JSON").click();
  await page.getByRole("button", { name: "Export" }).click();
  const exported = JSON.parse(await page.getByLabel(/Stages in the shape of/).inputValue());
  expect(exported.stages[0].groups[0]).toEqual({ name: "wave", maxConcurrency: "50%", maxAllowedFailures: "1" });

  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/batched$`));
  await waitForHydration(page);
  await expect(page.locator('li[data-group="wave"] .limits-note')).toContainText("2 at once · 0 of 1 failures allowed");
  expect(problems).toEqual([]);
});

async function gatedRun(request: any, fleet: string, target: string) {
  const created = await request.put(`/api/v1/fleets/${fleet}/updateRuns/gated`, {
    data: { properties: {
      strategy: { stages: [{ name: "canary", groups: [{ name: "wave" }],
                             beforeGates: [{ displayName: "Change ticket approved", type: "Approval" }] }] },
      managedClusterUpdate: { upgrade: { type: "Full", kubernetesVersion: target } } } },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  expect((await request.post(`/api/v1/fleets/${fleet}/updateRuns/gated/start`, { data: {} })).ok()).toBeTruthy();
}

test("a gate waits in the run's tree and on the fleet page, and Approve lets the run go on", async ({ page, request }) => {
  test.setTimeout(90_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("gate");
  const { minors, newestOf } = await makeFleet(request, fleet, [{ name: `${fleet}-a`, group: "wave" }]);
  await gatedRun(request, fleet, newestOf(minors[minors.length - 1]));

  // The fleet page lists what waits for a person, across runs.
  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  const waiting = page.locator(".waiting-gates");
  await expect(waiting).toContainText("Waiting for approval");
  await expect(waiting.locator(`[data-gate="gated.canary.before"]`)).toContainText("Change ticket approved");
  await expect(waiting.getByRole("link", { name: "gated" })).toHaveAttribute("href", `/fleets/${fleet}/updates/runs/gated`);

  // The run's tree shows the gate with Approve; approving it lets the members start.
  await page.goto(`/fleets/${fleet}/updates/runs/gated`);
  await waitForHydration(page);
  const gate = page.locator(`[data-gate="gated.canary.before"]`);
  await expect(gate).toContainText("waiting for approval");
  await expect(page.locator(`tr[data-member="${fleet}-a"] .state`)).toHaveText("Not started");
  await gate.getByLabel("Comment for gated.canary.before").fill("CAB said yes");
  await gate.getByRole("button", { name: "Approve gate gated.canary.before" }).click();
  await expect(gate).toContainText("approved by admin: CAB said yes");
  await expect(gate.getByRole("button", { name: /Approve/ })).toHaveCount(0);
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 60_000 });

  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  await expect(page.locator(".waiting-gates")).toHaveCount(0);
  expect(problems).toEqual([]);
});

test("gates set in the stage builder show in the preview, refuse a bad time, and reach the run", async ({ page, request }) => {
  test.setTimeout(90_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("bgate");
  const { minors, newestOf } = await makeFleet(request, fleet, [{ name: `${fleet}-a`, group: "wave" }]);
  const target = newestOf(minors[minors.length - 1]);

  await page.goto(`/fleets/${fleet}/updates/new`);
  await waitForHydration(page);
  await page.getByLabel("Run name", { exact: true }).fill("held");
  await page.getByLabel("Kubernetes version", { exact: true }).selectOption(target);
  await page.getByRole("radio", { name: "Stages", exact: true }).check();
  const stage = page.locator(".stage-editor").first();
  await stage.getByLabel("wave", { exact: true }).check();
  await stage.getByText("Gates", { exact: true }).click();
  const wholeStage = stage.locator("fieldset.level-gates").filter({ hasText: "Whole stage" });
  await wholeStage.getByLabel("Approval before it starts").check();
  await wholeStage.getByLabel("Name of the gate: Approval before it starts").fill("Change ticket approved");
  const preview = page.locator(".preview");
  await expect(preview.locator(".plan-stage").first()).toContainText("Gate before: Change ticket approved, waits for an approval");

  // A scheduled start with a time that is not one is refused where it is typed.
  const group = stage.locator("fieldset.level-gates").filter({ hasText: "Group wave" });
  await group.getByLabel("Scheduled start before it starts").check();
  await group.getByLabel("Time of the scheduled start").fill("25:00");
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(stage.locator(".field-error")).toHaveText("Group wave: scheduledStartConfiguration startTime '25:00' is not HH:MM");
  await expect(group.getByLabel("Time of the scheduled start"), "the problem's field is shown").toBeVisible();
  await group.getByLabel("Scheduled start before it starts").uncheck();

  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/held$`));
  const run = await (await request.get(`/api/v1/fleets/${fleet}/updateRuns/held`)).json();
  expect(run.properties.strategy.stages[0].beforeGates).toEqual([{ displayName: "Change ticket approved", type: "Approval" }]);
  expect(run.properties.strategy.stages[0].groups[0].beforeGates ?? []).toEqual([]);
  expect(problems).toEqual([]);
});

test("members chosen by label: a live count on the stage, a selector per group, and the preview follows", async ({ page, request }) => {
  test.setTimeout(90_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("label");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-eu`, group: "wave", labels: { env: "prod", region: "eu" } },
    { name: `${fleet}-us`, group: "wave", labels: { env: "prod", region: "us" } },
    { name: `${fleet}-dev`, group: "wave", labels: { env: "dev" } },
  ]);
  await page.goto(`/fleets/${fleet}/updates/new`);
  await waitForHydration(page);
  await page.getByLabel("Run name", { exact: true }).fill("labelled");
  await page.getByLabel("Kubernetes version", { exact: true }).selectOption(newestOf(minors[minors.length - 1]));
  await page.getByRole("radio", { name: "Stages", exact: true }).check();
  const stage = page.locator(".stage-editor").first();
  const key = await stage.getAttribute("data-stage-key");
  await stage.getByLabel("Members by label", { exact: true }).fill("env=prod");
  await expect(page.getByTestId(`selector-count-${key}`)).toHaveText("Selects 2 members of 3.");
  const preview = page.locator(".preview");
  await expect(preview.locator(".plan-member")).toHaveCount(2);
  await expect(preview.locator(`.plan-member[data-member="${fleet}-dev"]`)).toHaveCount(0);
  await expect(preview.locator(".not-in-stage")).toHaveText(`${fleet}-dev`);

  // With the group picked too, a selector on the group narrows it further.
  await stage.getByLabel("wave", { exact: true }).check();
  await stage.getByText("Concurrency and failure budget").click();
  await stage.getByLabel("Members of group wave by label").fill("region=eu");
  await expect(preview.locator(".plan-member")).toHaveCount(1);
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/labelled$`));
  const run = await (await request.get(`/api/v1/fleets/${fleet}/updateRuns/labelled`)).json();
  expect(run.properties.strategy.stages[0].memberSelector).toEqual({ byLabel: "env=prod" });
  expect(run.properties.strategy.stages[0].groups[0].memberSelector).toEqual({ byLabel: "region=eu" });
  const members = run.properties.status.stages[0].groups[0].members.map((m: any) => m.name);
  expect(members).toEqual([`${fleet}-eu`]);
  expect(problems).toEqual([]);
});
