import { expect, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

test("a resource is placed in the browser on the members with a label, and a change rolls out to them", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("place");
  const [a, b, c] = [`${fleet}-a`, `${fleet}-b`, `${fleet}-c`];
  await makeFleet(request, fleet, [
    { name: a, labels: { env: "prod" } },
    { name: b, labels: { env: "prod" }, region: "westeurope" },
    { name: c, labels: { env: "dev" } },
  ]);
  const putResource = (value: string) =>
    request.put(`/api/v1/fleets/${fleet}/resources/web`, {
      data: { properties: { yaml: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  value: "${value}"\n` } },
    });
  expect((await putResource("one")).ok()).toBeTruthy();

  await page.goto(`/fleets/${fleet}`);
  await page.getByRole("link", { name: "Placements →" }).click();
  await waitForHydration(page);
  await expect(page.getByText("No placements yet.")).toBeVisible();
  await expect(page.locator('li[data-resource="web"]')).toContainText("ConfigMap default/settings");

  // The editor guards, and previews with the server's scheduler before anything is saved.
  const form = page.getByRole("form", { name: "Placement" });
  const save = form.getByRole("button", { name: "Save placement" });
  await form.getByLabel("Name", { exact: true }).fill("web");
  await form.getByRole("checkbox", { name: "web" }).check();
  await form.getByLabel("With the labels").fill("env");
  await expect(form.getByRole("alert")).toContainText("Labels: 'env' is not key=value");
  await expect(save).toBeDisabled();
  await form.getByLabel("With the labels").fill("env=prod");
  const preview = page.locator(".placement-preview");
  await expect(preview.getByRole("status")).toHaveText("PickAll: 2 picked; 2 of 3 members pass the filters");
  await expect(preview.locator(`tr[data-member="${c}"]`)).toContainText("matches no required term (term 1: wants env in (prod), has env=dev)");
  await form.getByLabel("Members", { exact: true }).selectOption("PickN");
  await form.getByLabel("How many").fill("1");
  await expect(preview.getByRole("status")).toHaveText("PickN: 1 picked; 2 of 3 members pass the filters");
  await form.getByLabel("Members", { exact: true }).selectOption("PickAll");
  await expect(save).toBeEnabled();
  await save.click();

  // The rollout (a pass every 5 s on the test server) gives both prod members the objects.
  const card = page.locator('article[data-placement="web"]');
  const state = (member: string) => card.locator(`tr[data-member="${member}"] [data-state]`);
  await expect(state(a)).toHaveText("Available", { timeout: 30_000 });
  await expect(state(b)).toHaveText("Available", { timeout: 30_000 });
  await expect(state(c)).toHaveText("NotSelected");
  await expect(card.locator(`tr[data-member="${a}"]`)).toContainText("web@1 applied and available");

  // A change to the resource is a new snapshot, and it reaches both.
  expect((await putResource("two")).ok()).toBeTruthy();
  await expect(card.locator(`tr[data-member="${a}"]`)).toContainText("web@2 applied and available", { timeout: 30_000 });
  await expect(card.locator(`tr[data-member="${b}"]`)).toContainText("web@2 applied and available", { timeout: 30_000 });
  const resource = page.locator('li[data-resource="web"]');
  await expect(resource).toContainText("snapshot 2");
  // What the snapshot changed, line by line, and it stays open while the page refreshes.
  await resource.getByRole("button", { name: "Changes in snapshot 2 of web" }).click();
  const diff = resource.getByLabel("Changes from the snapshot before");
  await expect(diff.locator(".diff-removed")).toHaveText([/"value": "one"/]);
  await expect(diff.locator(".diff-added")).toHaveText([/"value": "two"/]);
  await page.waitForTimeout(3500);
  await expect(diff.locator(".diff-added")).toHaveText([/"value": "two"/]);
  const held = async (member: string) => (await (await request.get(`/api/v1/simulator/clusters/${member}/resources`)).json()).value;
  const onA = await held(a);
  expect(onA[0].revision).toBe("web@2");
  expect(onA[0].applies, "each snapshot applied once").toBe(2);
  expect(onA[0].manifests[0].data.value).toBe("two");
  expect(await held(c)).toEqual([]);

  // Editing fills the form with the stored placement.
  await card.getByRole("button", { name: "Edit placement web" }).click();
  await expect(form.getByLabel("With the labels")).toHaveValue("env=prod");
  expect(problems).toEqual([]);
});

test("an External placement's change goes out through an update run's stages and gate", async ({ page, request }) => {
  test.setTimeout(120_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("xrun");
  const [a, b, c] = [`${fleet}-a`, `${fleet}-b`, `${fleet}-c`];
  await makeFleet(request, fleet, [
    { name: a, labels: { env: "prod" }, group: "canary" },
    { name: b, labels: { env: "prod" }, group: "rest" },
    { name: c, labels: { env: "dev" }, group: "rest" },
  ]);
  const resource = await request.put(`/api/v1/fleets/${fleet}/resources/web`, {
    data: { properties: { yaml: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n" } },
  });
  expect(resource.ok(), await resource.text()).toBeTruthy();
  const strategy = await request.put(`/api/v1/fleets/${fleet}/updateStrategies/canary-first`, {
    data: { properties: { strategy: { stages: [
      { name: "canary", groups: [{ name: "canary" }] },
      { name: "rest", groups: [{ name: "rest" }], beforeGates: [{ displayName: "Canary looks healthy", type: "Approval" }] },
    ] } } },
  });
  expect(strategy.ok(), await strategy.text()).toBeTruthy();

  // An External placement, made in the editor, waits for a run.
  await page.goto(`/fleets/${fleet}/placements`);
  await waitForHydration(page);
  const form = page.getByRole("form", { name: "Placement" });
  await form.getByLabel("Name", { exact: true }).fill("web");
  await form.getByRole("checkbox", { name: "web" }).check();
  await form.getByLabel("With the labels").fill("env=prod");
  await form.getByRole("checkbox", { name: "Roll changes out with update runs (External)" }).check();
  await expect(form.getByLabel("At most unavailable while rolling out")).toHaveCount(0);
  await form.getByRole("button", { name: "Save placement" }).click();
  const card = page.locator('article[data-placement="web"]');
  await expect(card).toContainText("External: rolled out by update runs");
  await expect(card.locator(`tr[data-member="${a}"]`)).toContainText("web@1 waits for an update run (External)");

  // The roll-out form makes the run from a stored strategy and opens it.
  const rollOut = page.getByRole("form", { name: "Roll out" });
  await rollOut.getByLabel("Members go").selectOption("canary-first");
  await rollOut.getByLabel("Snapshot").selectOption("1");
  await rollOut.getByLabel("Run name").fill("web-1");
  await rollOut.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(new RegExp(`/fleets/${fleet}/updates/runs/web-1$`));
  await waitForHydration(page);
  await expect(page.locator("p.summary").first()).toContainText("Rolls out placement web at web@1");
  await page.getByRole("button", { name: "Start" }).click();

  // The canary stage gives a its objects; b waits behind the gate; c is not picked.
  const gate = page.locator(`[data-gate="web-1.rest.before"]`);
  await expect(gate).toContainText("waiting for approval", { timeout: 30_000 });
  await expect(page.locator(`tr[data-member="${a}"] .state`)).toHaveText("Completed");
  await expect(page.locator(`tr[data-member="${b}"] .state`)).toHaveText("Not started");
  const held = async (member: string) => (await (await request.get(`/api/v1/simulator/clusters/${member}/resources`)).json()).value;
  expect((await held(a))[0].revision).toBe("web@1");
  expect(await held(b)).toEqual([]);
  await gate.getByRole("button", { name: "Approve gate web-1.rest.before" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 60_000 });
  await expect(page.locator(`tr[data-member="${c}"]`)).toContainText("not picked by placement web");
  expect((await held(b))[0].revision).toBe("web@1");
  expect(await held(c)).toEqual([]);

  // The placement's status follows the run, and the runs list says what the run rolled out.
  await page.goto(`/fleets/${fleet}/placements`);
  await waitForHydration(page);
  await expect(card.locator(`tr[data-member="${b}"]`)).toContainText("web@1 applied and available");
  await expect(card.locator(`tr[data-member="${c}"] [data-state]`)).toHaveText("NotSelected");
  await page.goto(`/fleets/${fleet}/updates`);
  await waitForHydration(page);
  const row = page.locator('tr[data-run="web-1"]');
  await expect(row).toContainText("Placement web");
  await expect(row).toContainText("web@1");

  // The fleet page's matrix: every member's state under every placement.
  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  const matrix = page.getByRole("region", { name: "Placements by member" });
  await expect(matrix.locator(`tr[data-member="${a}"] td`)).toHaveAttribute("data-state", "Available");
  await expect(matrix.locator(`tr[data-member="${a}"] td`)).toContainText("web@1");
  await expect(matrix.locator(`tr[data-member="${c}"] td`)).toHaveAttribute("data-state", "NotSelected");
  await expect(matrix).toContainText("Members 1–3 of 3 members");
  expect(problems).toEqual([]);
});

test("a resource override is written in the browser, previewed, and reaches only the members it picks", async ({ page, request }) => {
  test.setTimeout(90_000);
  const problems = watchConsole(page);
  const fleet = uniqueName("over");
  const [eu, us] = [`${fleet}-eu`, `${fleet}-us`];
  await makeFleet(request, fleet, [
    { name: eu, labels: { area: "eu" } },
    { name: us, labels: { area: "us" } },
  ]);
  const resource = await request.put(`/api/v1/fleets/${fleet}/resources/web`, {
    data: { properties: { yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  area: none\n" } },
  });
  expect(resource.ok(), await resource.text()).toBeTruthy();
  const placed = await request.put(`/api/v1/fleets/${fleet}/placements/web`, {
    data: { properties: { resources: ["web"], policy: { placementType: "PickAll" } } },
  });
  expect(placed.ok(), await placed.text()).toBeTruthy();

  await page.goto(`/fleets/${fleet}/placements`);
  await waitForHydration(page);
  const form = page.getByRole("form", { name: "Resource override" });
  await form.getByLabel("Override name").fill("eu");
  await form.getByLabel("Override (JSON)").fill("{");
  await expect(form.getByRole("alert")).toContainText("Override: ");
  await expect(form.getByRole("button", { name: "Save override" })).toBeDisabled();
  await form.getByLabel("Override (JSON)").fill(JSON.stringify({
    placement: "web",
    policy: { overrideRules: [{
      clusterSelector: { clusterSelectorTerms: [{ labelSelector: { matchLabels: { area: "eu" } } }] },
      jsonPatchOverrides: [{ op: "replace", path: "/data/area", value: "eu" }],
    }] },
  }));
  await form.getByRole("button", { name: "Save override" }).click();
  const listed = page.locator('li[data-override="eu"]');
  await expect(listed).toContainText("eu changes placement web (1 rule)");

  // The placement editor's preview says which members the override changes.
  await page.locator('article[data-placement="web"]').getByRole("button", { name: "Edit placement web" }).click();
  const preview = page.locator(".placement-preview");
  await expect(preview.locator(`tr[data-member="${eu}"]`)).toContainText("picked + eu");
  await expect(preview.locator(`tr[data-member="${us}"]`)).not.toContainText("+ eu");

  // The rollout gives the eu member its own objects, and the us member the plain ones.
  const card = page.locator('article[data-placement="web"]');
  await expect(card.locator(`tr[data-member="${eu}"]`)).toContainText("+ eu@", { timeout: 30_000 });
  await expect(card.locator(`tr[data-member="${eu}"] [data-state]`)).toHaveText("Available", { timeout: 30_000 });
  const held = async (member: string) => (await (await request.get(`/api/v1/simulator/clusters/${member}/resources`)).json()).value;
  await expect.poll(async () => (await held(eu))[0]?.manifests[0].data.area, { timeout: 30_000 }).toBe("eu");
  await expect.poll(async () => (await held(us))[0]?.manifests[0].data.area, { timeout: 30_000 }).toBe("none");

  page.once("dialog", (dialog) => dialog.accept());
  await listed.getByRole("button", { name: "Delete override eu" }).click();
  await expect(page.locator('li[data-override="eu"]')).toHaveCount(0);
  expect(problems).toEqual([]);
});
