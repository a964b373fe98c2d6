import { Browser, Page, expect, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

// Who may do what, as people meet it: the sign-in page, a viewer's disabled Start that says
// why, an operator's working one, signing out.

/** A browser of its own, signed in as nobody (the suite's admin session is not in it). */
async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  return context.newPage();
}

async function signIn(page: Page, user: string, password: string) {
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a viewer sees why Start is off, an operator starts the run, both sign in and out; the audit trail says who", async ({ browser, page: adminPage, request }) => {
  test.setTimeout(120_000);
  const fleet = uniqueName("who");
  const { minors, newestOf } = await makeFleet(request, fleet, [{ name: `${fleet}-a` }]);
  const target = newestOf(minors[minors.length - 1]);
  const created = await request.put(`/api/v1/fleets/${fleet}/updateRuns/r`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "Full", kubernetesVersion: target } } } },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  const viewer = uniqueName("vera");
  const operator = uniqueName("otto");
  for (const [name, roles] of [
    [viewer, [{ role: "viewer" }]],
    [operator, [{ role: "viewer" }, { role: "operator", fleet }]],
  ] as const) {
    const made = await request.put(`/api/v1/users/${name}`, {
      data: { properties: { password: `${name}-password`, roles } },
    });
    expect(made.ok(), await made.text()).toBeTruthy();
  }
  const runPage = `/fleets/${fleet}/updates/runs/r`;

  const page = await freshPage(browser);
  const problems = watchConsole(page);
  await page.goto(runPage);
  await expect(page.getByRole("heading", { name: "Sign in to Drydock" })).toBeVisible();
  await signIn(page, viewer, "wrong password");
  await expect(page.getByRole("alert")).toHaveText("The user name or password is wrong.");
  await page.getByLabel("User name").fill(viewer);
  await page.getByLabel("Password").fill(`${viewer}-password`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`${runPage}$`));
  await waitForHydration(page);
  await expect(page.getByTestId("signed-in-as")).toHaveText(viewer);
  await expect(page.getByRole("button", { name: "Start" })).toBeDisabled();
  await expect(page.getByTestId("why-role")).toHaveText(
    `This needs the operator role on fleet ${fleet}; ${viewer} is viewer there.`,
  );
  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  await expect(page.getByRole("button", { name: "Join member" })).toBeDisabled();
  await expect(page.getByTestId("why-role")).toHaveText(
    `This needs the admin role on fleet ${fleet}; ${viewer} is viewer there.`,
  );
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("status")).toHaveText("You have signed out.");
  await page.goto(runPage);
  await expect(page).toHaveURL(/\/login\?next=/);

  await signIn(page, operator, `${operator}-password`);
  await expect(page).toHaveURL(new RegExp(`${runPage}$`));
  await waitForHydration(page);
  await expect(page.getByTestId("signed-in-as")).toHaveText(operator);
  await expect(page.getByTestId("why-role")).toHaveCount(0);
  await page.getByRole("button", { name: "Start" }).click();
  await expect.poll(async () => (await (await request.get(`/api/v1/fleets/${fleet}/updateRuns/r`)).json()).properties.status.status.state)
    .not.toBe("NotStarted");
  await expect(page.getByTestId("run-audit")).toContainText(`${operator} started the run · done`);
  await expect(page.getByTestId("run-audit")).toContainText("admin created the run · done");
  expect(problems).toEqual([]);

  // The admin's Audit page: the viewer's failed sign-in and the operator's start.
  await adminPage.goto("/audit");
  await waitForHydration(adminPage);
  await adminPage.getByLabel("User").fill(viewer);
  await adminPage.getByLabel("User").press("Tab");
  await expect(adminPage.getByTestId("audit")).toContainText("refused (InvalidCredentials)");
  await adminPage.getByLabel("User").fill(operator);
  await adminPage.getByLabel("User").press("Tab");
  await expect(adminPage.getByTestId("audit")).toContainText("POST /fn/start_run");
});

test("a user makes and revokes an API token, changes their password on the account page and signs in with the new one", async ({ browser, request }) => {
  const name = uniqueName("pat");
  const made = await request.put(`/api/v1/users/${name}`, {
    data: { properties: { password: `${name}-password`, roles: [{ role: "viewer" }] } },
  });
  expect(made.ok(), await made.text()).toBeTruthy();
  const page = await freshPage(browser);
  const problems = watchConsole(page);
  await page.goto("/account");
  await signIn(page, name, `${name}-password`);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("roles")).toHaveText(`${name}: viewer on every fleet`);
  await waitForHydration(page);
  await page.getByLabel("For").fill("a script");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("new-token")).toContainText("ddt_");
  await expect(page.getByTestId("tokens")).toContainText("viewer on every fleet");
  await page.getByRole("button", { name: /^Revoke tok-/ }).click();
  await expect(page.getByTestId("tokens")).toContainText("Revoked");
  await page.getByLabel("Current password").fill(`${name}-password`);
  await page.getByLabel("New password").fill(`${name}-changed-password`);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toHaveText("Your password is changed: sign in with the new one.");
  await page.getByLabel("User name").fill(name);
  await page.getByLabel("Password").fill(`${name}-changed-password`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(name);
  expect(problems).toEqual([]);
});

test("single sign-on: the sign-in page's button goes to the identity provider and back, signed in with the roles the groups give", async ({ browser }) => {
  // The suite's fake identity provider signs everyone in as Olive, of group fleet-viewers.
  const page = await freshPage(browser);
  const problems = watchConsole(page);
  await page.goto("/fleets/demo");
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByRole("link", { name: "Sign in with Fake IdP" }).click();
  await expect(page).toHaveURL(/\/fleets\/demo$/);
  await waitForHydration(page);
  await expect(page.getByTestId("signed-in-as")).toHaveText("olive-example-com");
  await expect(page.getByRole("button", { name: "Join member" })).toBeDisabled();
  await page.goto("/account");
  await expect(page.getByTestId("roles")).toHaveText("olive-example-com: viewer on every fleet");
  await expect(page.getByTestId("password-at-provider")).toContainText("your password is changed there");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("status")).toHaveText("You have signed out.");
  expect(problems).toEqual([]);
});

test("the admin's Users page adds a user, gives and takes a role and deletes the user", async ({ page }) => {
  const name = uniqueName("ursula");
  const problems = watchConsole(page);
  await page.goto("/");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Users" }).click();
  await expect(page).toHaveURL(/\/users$/);
  await expect(page.getByTestId("users")).toContainText("admin");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(`${name}-password`);
  await page.locator(`select[name="role"]`).selectOption("viewer");
  await page.getByRole("button", { name: "Add user" }).click();
  const row = page.getByTestId(`user-${name}`);
  await expect(row).toContainText("viewer on every fleet");
  await expect(row).toContainText("password");
  await page.getByLabel(`Role for ${name}`).selectOption("operator");
  await page.getByLabel(`Fleet for ${name}`).fill("demo");
  await row.getByRole("button", { name: "Give" }).click();
  await expect(row).toContainText("operator on fleet demo");
  await page.getByRole("button", { name: `Take viewer on every fleet from ${name}` }).click();
  await expect(row).not.toContainText("viewer on every fleet");
  await expect(row).toContainText("operator on fleet demo");
  await page.getByLabel(`Fleet for ${name}`).fill("Not A Fleet");
  await row.getByRole("button", { name: "Give" }).click();
  await expect(row.getByRole("alert")).toContainText("fleet name");
  await page.getByRole("button", { name: `Delete ${name}` }).click();
  await expect(page.getByTestId(`user-${name}`)).toHaveCount(0);
  expect(problems).toEqual([]);
});
