import { request } from "@playwright/test";
import config, { adminPassword, adminState } from "./playwright.config";

/** Signs the admin in once and keeps the session cookie for every test (config `storageState`). */
export default async function globalSetup() {
  const context = await request.newContext({ baseURL: config.use?.baseURL });
  const reply = await context.post("/auth/login", { data: { username: "admin", password: adminPassword } });
  if (!reply.ok()) {
    throw new Error(`signing in as admin failed: ${reply.status()} ${await reply.text()}`);
  }
  await context.storageState({ path: adminState });
  await context.dispose();
}
