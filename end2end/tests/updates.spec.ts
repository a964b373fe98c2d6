import { expect, test } from "@playwright/test";
import { watchConsole, waitForHydration } from "./helpers";

const stages = {
  stages: [
    { name: "stage1", groups: [{ name: "group-1a" }, { name: "group-1b" }], afterStageWaitInSeconds: 3600 },
    { name: "stage2", groups: [{ name: "group-2a" }, { name: "group-2b" }] },
  ],
};

test("the multi-cluster update page lists runs with state and progress, and strategies", async ({ page, request }) => {
  const problems = watchConsole(page);
  expect((await request.put("/api/v1/fleets/demo/updateStrategies/strategy-1", { data: { properties: { strategy: stages } } })).ok()).toBeTruthy();
  const run = (name: string) => request.put(`/api/v1/fleets/demo/updateRuns/${name}`, {
    data: { properties: { updateStrategyId: "strategy-1", managedClusterUpdate: { upgrade: { type: "NodeImageOnly" }, nodeImageSelection: { type: "Consistent" } } } },
  });
  const created = await run("ui-waiting");
  expect(created.ok()).toBeTruthy();
  const stagesOfRun = (await created.json()).properties.status.stages;
  const total = stagesOfRun.flatMap((s: any) => s.groups.flatMap((g: any) => g.members)).length;
  expect((await run("ui-running")).ok()).toBeTruthy();
  expect((await request.post("/api/v1/fleets/demo/updateRuns/ui-running/start")).ok()).toBeTruthy();

  await page.goto("/fleets/demo");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Multi-cluster update →" }).click();
  await expect(page.getByRole("heading", { name: "Multi-cluster update" })).toBeVisible();
  const waiting = page.locator('tr[data-run="ui-waiting"]');
  await expect(waiting).toContainText("Not started");
  await expect(waiting).toContainText("Node image only");
  await expect(waiting).toContainText("Consistent");
  await expect(waiting.locator(".progress")).toContainText(`none done of ${total}`);
  const running = page.locator('tr[data-run="ui-running"]');
  await expect(running.locator(".state")).toHaveText(/Running|Completed/);
  await expect(running.locator("td").nth(5), "a started run shows when it started").not.toHaveText("—");

  await page.getByRole("link", { name: "Strategies" }).click();
  await expect(page).toHaveURL(/tab=strategies/);
  const strategy = page.locator('li[data-strategy="strategy-1"]');
  await expect(strategy).toContainText("stage1: group-1a, group-1b · then wait 1h 0m");
  await expect(strategy).toContainText("stage2: group-2a, group-2b");
  await page.reload();
  await expect(strategy).toBeVisible();
  expect(problems).toEqual([]);

  await request.post("/api/v1/fleets/demo/updateRuns/ui-running/stop");
});
