import { request } from "@playwright/test";
import config, { adminPassword, adminState } from "./playwright.config";

/**
 * Signs the admin in once and keeps the session cookie for every test (config `storageState`),
 * and its CSRF token for the tests' API calls (config `extraHTTPHeaders`; workers start after
 * this and inherit the environment).
 */
export default async function globalSetup() {
  const context = await request.newContext({ baseURL: config.use?.baseURL });
  const reply = await context.post("/auth/login", { data: { username: "admin", password: adminPassword } });
  if (!reply.ok()) {
    throw new Error(`signing in as admin failed: ${reply.status()} ${await reply.text()}`);
  }
  const state = await context.storageState({ path: adminState });
  const csrf = state.cookies.find((c) => c.name === "drydock_csrf");
  if (!csrf) {
    throw new Error("signing in as admin set no drydock_csrf cookie");
  }
  process.env.DRYDOCK_E2E_CSRF = csrf.value;
  await context.dispose();
}
