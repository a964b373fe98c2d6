import { expect, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

// Forms that guard: problems at the field they concern, in the form's words, checked before
// anything is sent, cleared as the person fixes them.

test("the run form checks itself, says what is wrong at each field and lands the keyboard there", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("form");
  await makeFleet(request, fleet, [{ name: `${fleet}-a`, group: "g1" }]);
  await request.put(`/api/v1/fleets/${fleet}/updateRuns/taken`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "NodeImageOnly" } } } },
  });
  await page.goto(`/fleets/${fleet}/updates/new`);
  await waitForHydration(page);
  const sent: string[] = [];
  page.on("request", (r) => { if (r.url().includes("/fn/create_run")) sent.push(r.url()); });

  await page.getByRole("button", { name: "Create run" }).click();
  const name = page.getByLabel("Run name", { exact: true });
  await expect(page.locator("#run-name-error")).toHaveText("Give the run a name.");
  await expect(name).toBeFocused();
  await expect(name).toHaveAttribute("aria-invalid", "true");
  await name.fill("Bad Name");
  await expect(page.locator("#run-name-error")).toContainText("lower-case letters, digits and '-'");
  // Stages: a wait is a number with a unit; a stage needs a group.
  await page.getByRole("radio", { name: "Stages", exact: true }).check();
  const stage = page.locator(".stage-editor").first();
  await expect(stage.getByLabel("Wait after the stage", { exact: true })).toHaveAttribute("type", "number");
  await stage.getByLabel("Wait after the stage", { exact: true }).fill("-5");
  await name.fill("good-name");
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(stage.locator(".field-error").first()).toHaveText("Enter the wait as a whole number of minutes (0 for none).");
  await expect(stage.getByText("Pick at least one update group, or choose members by label.")).toBeVisible();
  await expect(stage.getByLabel("Wait after the stage", { exact: true })).toBeFocused();
  expect(sent, "nothing is sent while the form has problems").toEqual([]);
  await stage.getByLabel("Wait after the stage", { exact: true }).fill("5");
  await stage.getByLabel("g1", { exact: true }).check();
  await expect(page.locator(".field-error")).toHaveCount(0);

  // The server's refusal shows at the field it concerns, and goes when that field changes.
  await page.getByRole("radio", { name: "One by one", exact: true }).check();
  await page.getByRole("radio", { name: "Node image only" }).check();
  await name.fill("taken");
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page.locator("#run-name-error")).toContainText("already exists");
  await name.fill("taken-2");
  await expect(page.locator("#run-name-error")).toHaveCount(0);
  // The browser logs the refused request (409) itself; nothing else may go wrong.
  expect(problems.filter((p) => !p.includes("status of 409"))).toEqual([]);
});

test("fields that do not apply are hidden; the version offered first blocks nobody, and creating anyway asks, naming who", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("ver");
  const { minors, newestOf } = await makeFleet(request, fleet, [
    { name: `${fleet}-old`, minorsBehind: 2 },
    { name: `${fleet}-new`, minorsBehind: 1 },
  ]);
  await page.goto(`/fleets/${fleet}/updates/new`);
  await waitForHydration(page);
  const version = page.getByLabel("Kubernetes version", { exact: true });
  // The newest minor would skip one for the old member: the one before it is offered first.
  await expect(version).toHaveValue(newestOf(minors[minors.length - 2]));
  await page.getByRole("radio", { name: "Node image only" }).check();
  await expect(version).toHaveCount(0);
  await page.getByRole("radio", { name: "Control plane only" }).check();
  await expect(version).toBeVisible();
  await expect(page.getByText("Node image selection")).toHaveCount(0);
  await page.getByRole("radio", { name: "Kubernetes version for control plane and node pools" }).check();
  await expect(page.getByText("Node image selection")).toBeVisible();

  // Picking the newest anyway: Create asks, naming the blocked member; saying no sends nothing.
  await version.selectOption(newestOf(minors[minors.length - 1]));
  await page.getByLabel("Run name", { exact: true }).fill("too-far");
  let question = "";
  page.once("dialog", (d) => { question = d.message(); d.dismiss(); });
  await page.getByRole("button", { name: "Create run" }).click();
  await expect.poll(() => question).toContain(`1 member(s) would be blocked: ${fleet}-old`);
  await expect(page).toHaveURL(/\/updates\/new$/);
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(/\/updates\/runs\/too-far$/);
  expect(problems).toEqual([]);
});

test("a strategy that is not there says so; a run is deleted from its page, not while it runs", async ({ page, request }) => {
  page.on("dialog", (d) => d.accept());
  const fleet = uniqueName("gone");
  const { minors, newestOf } = await makeFleet(request, fleet, [{ name: `${fleet}-a`, nodes: 200 }]);
  for (const url of [`/fleets/${fleet}/updates/strategies/missing/edit`, `/fleets/${fleet}/updates/new?from=missing`]) {
    const response = await page.goto(url);
    await expect(page.getByRole("alert")).toContainText(`Fleet ${fleet} has no update strategy named missing.`);
    expect(response!.status()).toBe(404);
  }
  const target = newestOf(minors[minors.length - 1]);
  await request.put(`/api/v1/fleets/${fleet}/updateRuns/doomed`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "Full", kubernetesVersion: target } } } },
  });
  await request.post(`/api/v1/fleets/${fleet}/updateRuns/doomed/start`);
  await page.goto(`/fleets/${fleet}/updates/runs/doomed`);
  await waitForHydration(page);
  await expect(page.getByRole("button", { name: "Delete run" })).toBeDisabled();
  await expect(page.getByTestId("why-disabled")).toContainText("Delete: Update run doomed is running; stop it before deleting it.");
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Stopped", { timeout: 30_000 });
  await page.getByRole("button", { name: "Delete run" }).click();
  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates$`));
  expect((await request.get(`/api/v1/fleets/${fleet}/updateRuns/doomed`)).status()).toBe(404);
});

test("the keyboard follows the stage list: a moved stage keeps the focus, a new stage gets it", async ({ page, request }) => {
  const fleet = uniqueName("keys");
  await makeFleet(request, fleet, [{ name: `${fleet}-a`, group: "g1" }, { name: `${fleet}-b`, group: "g2" }]);
  await page.goto(`/fleets/${fleet}/updates/strategies/new`);
  await waitForHydration(page);
  await page.getByRole("button", { name: "Add stage" }).click();
  const editors = page.locator(".stage-editor");
  await expect(editors).toHaveCount(2);
  await expect(editors.nth(1).getByLabel("Stage name", { exact: true }), "a new stage's name takes the focus").toBeFocused();
  await page.keyboard.type("-late");
  await expect(editors.nth(1).getByLabel("Stage name", { exact: true })).toHaveValue("stage-2-late");
  await page.getByRole("button", { name: "Move stage stage-2-late up" }).click();
  await expect(editors.nth(0).getByLabel("Stage name", { exact: true })).toHaveValue("stage-2-late");
  // It is first now, so Move up is off: the focus goes to its Move down, not back to the page.
  await expect(page.getByRole("button", { name: "Move stage stage-2-late down" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(editors.nth(1).getByLabel("Stage name", { exact: true })).toHaveValue("stage-2-late");
  await expect(page.getByRole("button", { name: "Move stage stage-2-late up" }), "moved down, it can go up again").toBeFocused();
});
